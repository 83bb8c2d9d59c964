/**
 * A loopback HTTP server speaking the part of the Secrets Manager JSON protocol Triggers uses
 * (POST, `X-Amz-Target: secretsmanager.GetSecretValue`, `application/x-amz-json-1.1`), so the
 * real SDK client can be pointed at it with its `endpoint` option. It counts the requests.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeSecretsManager {
  url: string;
  /** GetSecretValue requests received. */
  requests: { target: string; secretId: string }[];
  /** Sets (or replaces) a secret's value; each change is a new version. */
  put(secretId: string, value: string | object): void;
  /** While true, every request answers a non-retryable error. */
  failing: boolean;
  /** The SDK settings that reach this server. */
  clientConfig(): { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } };
  close(): Promise<void>;
}

export async function startFakeSecretsManager(): Promise<FakeSecretsManager> {
  const secrets = new Map<string, { text: string; version: number }>();
  const requests: FakeSecretsManager['requests'] = [];
  const state = { failing: false };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const answer = (status: number, body: object) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': `r-${requests.length}` });
        res.end(JSON.stringify(body));
      };
      let input: { SecretId?: string };
      try {
        input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { SecretId?: string };
      } catch {
        answer(400, { __type: 'SerializationException', message: 'bad JSON' });
        return;
      }
      requests.push({ target, secretId: input.SecretId ?? '' });
      if (req.method !== 'POST' || target !== 'secretsmanager.GetSecretValue') {
        answer(400, { __type: 'UnknownOperationException', message: `unknown operation ${target}` });
        return;
      }
      if (state.failing) {
        answer(400, { __type: 'AccessDeniedException', message: 'not allowed to read this secret' });
        return;
      }
      const secret = secrets.get(input.SecretId ?? '');
      if (!secret) {
        answer(400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
        return;
      }
      answer(200, {
        ARN: input.SecretId,
        Name: 'triggers',
        SecretString: secret.text,
        VersionId: `v${secret.version}`,
        VersionStages: ['AWSCURRENT'],
        CreatedDate: Date.now() / 1000,
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    requests,
    get failing() {
      return state.failing;
    },
    set failing(value: boolean) {
      state.failing = value;
    },
    put(secretId, value) {
      const previous = secrets.get(secretId);
      secrets.set(secretId, {
        text: typeof value === 'string' ? value : JSON.stringify(value),
        version: (previous?.version ?? 0) + 1,
      });
    },
    clientConfig: () => ({
      endpoint: url,
      region: 'us-east-2',
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
    }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
