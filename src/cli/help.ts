/**
 * What `triggers <command> --help` (and `triggers help <command>`) prints: the command's flags
 * and the variables it reads. Kept apart from the commands so that printing help loads none of
 * them (serve pulls in the whole server, the stores their drivers).
 */
import { SCOPES } from '../core/apiKeys.js';

const MORE = '\nEvery variable, with its default: docs/configuration.md. A .env file in the working directory is read too.';

export const HELP = {
  serve: `Usage: triggers serve [--role api|dispatcher|all] [--port N] [--host H] [--database URL] [--data-dir DIR]

Runs the API, the in-process dispatcher, the built-in receiver and the console until SIGINT/SIGTERM.
On first start it generates an API key, a JWT secret and a signing secret into <data-dir>/secrets.json.

Options:
  --role ROLE        api, dispatcher or all                           (TRIGGERS_ROLE, default all)
  -p, --port N       port to listen on                                (TRIGGERS_PORT, default 8080)
  --host H           address to listen on                             (TRIGGERS_HOST, default 127.0.0.1)
  --database URL     sqlite:<path>, postgres://… or dynamodb://<table> (TRIGGERS_DATABASE_URL, default sqlite:<data-dir>/triggers.db)
  --data-dir DIR     where generated secrets are kept                 (TRIGGERS_DATA_DIR, default ./data)
  -h, --help         print this help

Environment:
  TRIGGERS_API_KEY, TRIGGERS_JWT_SECRET    credentials (generated on first start when unset)
  TRIGGERS_WEBHOOK_URL                     the default subscription's URL (none: a pull-only inbox)
  TRIGGERS_WEBHOOK_SECRET                  its signing secret
  TRIGGERS_SECRETS_FILE                    the seed's secrets JSON (zapier_api_key, zapier_webhook_url, …)
  TRIGGERS_RETRY_SCHEDULE                  delays between attempts, e.g. 1s,2s,4s,5m
  TRIGGERS_ALLOW_PRIVATE_TARGETS           allow subscription URLs on private/loopback addresses
  TRIGGERS_LOG_LEVEL                       fatal, error, warn, info, debug, trace or silent
${MORE}
`,

  dispatch: `Usage: triggers dispatch [--once] [--api URL]

Runs the dispatcher as its own process, speaking only HTTP to a Triggers API with the API key.
Without --once it keeps going (long-polling) until SIGINT/SIGTERM, and while it cannot reach the
API it keeps trying (a warning each time, at most 30 s apart); with --once it makes one run and
prints a JSON summary line, or fails at once.

Options:
  --once             one run of at most TRIGGERS_MAX_EVENTS_PER_RUN deliveries, then exit
  --api URL          the API to work for                              (TRIGGERS_API_URL, default http://TRIGGERS_HOST:TRIGGERS_PORT)
  -h, --help         print this help

Environment:
  TRIGGERS_API_KEY                         the API key (else zapier_api_key from TRIGGERS_SECRETS_FILE,
                                           else the one saved in TRIGGERS_DATA_DIR/secrets.json)
  TRIGGERS_MAX_EVENTS_PER_RUN              deliveries one --once run takes (default 100)
  TRIGGERS_DISPATCH_CONCURRENCY            requests in flight at once (default 256)
  TRIGGERS_SUBSCRIPTION_CONCURRENCY        requests in flight to one subscription (default 32)
  TRIGGERS_DELIVERY_TIMEOUT                how long one webhook request may take (default 10s)
  TRIGGERS_WEBHOOK_URL                     a private/loopback target this dispatcher may reach
  TRIGGERS_ALLOW_PRIVATE_TARGETS           allow every private/loopback target
  TRIGGERS_LOG_LEVEL                       fatal, error, warn, info, debug, trace or silent
${MORE}
`,

  send: `Usage: triggers send --type T [--source S] [--payload JSON] [--api URL] [--idempotency-key K]

Sends one event to a running API and prints what it answered as one JSON line.

Options:
  -t, --type T             the event type, e.g. order.created (required)
  -s, --source S           the event source                              (default cli)
  -d, --payload JSON       a JSON object                                 (default {})
  --api URL                the API                                       (TRIGGERS_API_URL, default http://TRIGGERS_HOST:TRIGGERS_PORT)
  --idempotency-key K      sent as Idempotency-Key: a repeat returns the first event
  -h, --help               print this help

Environment:
  TRIGGERS_API_KEY         the API key (else zapier_api_key from TRIGGERS_SECRETS_FILE,
                           else the one saved in TRIGGERS_DATA_DIR/secrets.json)
${MORE}
`,

  migrate: `Usage: triggers migrate [--database URL] [--data-dir DIR]

Applies pending migrations to the configured database and exits.

Options:
  --database URL     sqlite:<path>, postgres://… or dynamodb://<table> (TRIGGERS_DATABASE_URL, default sqlite:<data-dir>/triggers.db)
  --data-dir DIR     the default SQLite file's folder                 (TRIGGERS_DATA_DIR, default ./data)
  -h, --help         print this help

Environment:
  TRIGGERS_DYNAMODB_ENDPOINT               with dynamodb://: a local DynamoDB instead of AWS's
${MORE}
`,

  keys: `Usage:
  triggers keys create --name NAME --scopes ${SCOPES.join(',')} [--rate-limit N]
  triggers keys list
  triggers keys revoke KEY_ID

Manages API keys straight in the configured database, so scoped keys can be made before any server
runs. A key is printed once, when created; only its digest is stored.

Options:
  --name NAME        the key's name (create)
  --scopes LIST      comma-separated ${SCOPES.join(', ')} (create)
  --rate-limit N     ingest requests per second for this key (create)
  --database URL     the database                                     (TRIGGERS_DATABASE_URL, default sqlite:<data-dir>/triggers.db)
  --data-dir DIR     the default SQLite file's folder                 (TRIGGERS_DATA_DIR, default ./data)
  -h, --help         print this help
${MORE}
`,

  receive: `Usage: triggers receive [--port N] [--host H] [--secret S] [--database URL]

Runs the webhook receiver alone, for testing someone else's sender, and prints each request on stdout
as one JSON line with its verdict (verified, invalid_signature, stale_timestamp, unsigned…). Listens on /receiver/{name}.

Options:
  -p, --port N       port to listen on                                (default 8081)
  --host H           address to listen on                             (default 127.0.0.1)
  --secret S         the secret to verify signatures with             (TRIGGERS_RECEIVER_SECRET; none: every request is accepted unsigned)
  --database URL     keep requests in sqlite:<path> or postgres://…   (default: in memory)
  -h, --help         print this help

Environment:
  TRIGGERS_LOG_LEVEL                       fatal, error, warn, info, debug, trace or silent
`,
} satisfies Record<string, string>;

export type CommandName = keyof typeof HELP;
