/**
 * The stack's options, as CDK context: `npm run synth -- -c streams=true -c schedule='rate(1 minute)'`
 * (or a cdk.json "context" block). Context values arrive as strings from the command line and as
 * JSON values from cdk.json; both are accepted, anything else stops the synth with the key's name.
 */

export interface TriggersSettings {
  /** CloudFormation stack name. */
  stackName: string;
  /** EventBridge schedule expression of the scheduled dispatcher. */
  schedule: string;
  /** Also dispatch from the table's DynamoDB stream (a second function, woken by inserts). */
  streams: boolean;
  /** Stream records per invocation of the stream dispatcher. */
  streamBatchSize: number;
  /** TRIGGERS_MAX_EVENTS_PER_RUN: deliveries one scheduled run takes. */
  maxEventsPerRun: number;
  /** TRIGGERS_METRICS_NAMESPACE: the CloudWatch namespace of the EMF metrics. */
  metricsNamespace: string;
  /** Origins allowed to call the function URL from a browser. */
  corsOrigins: string[];
  /** An address to subscribe to the alarm topic (confirmation mail is sent on deploy). */
  alarmEmail: string | undefined;
  /** Lambda CPU architecture. */
  architecture: 'arm64' | 'x86_64';
  /** Lambda Node.js runtime (the package runs on Node 20 and later). */
  runtime: (typeof RUNTIMES)[number];
}

export const RUNTIMES = ['nodejs20.x', 'nodejs22.x', 'nodejs24.x'] as const;

export const DEFAULT_SETTINGS: TriggersSettings = {
  stackName: 'Triggers',
  schedule: 'rate(5 minutes)',
  streams: false,
  streamBatchSize: 100,
  maxEventsPerRun: 100,
  metricsNamespace: 'Triggers',
  corsOrigins: ['*'],
  alarmEmail: undefined,
  architecture: 'arm64',
  runtime: 'nodejs22.x',
};

export class SettingsError extends Error {
  constructor(key: string, message: string) {
    super(`context ${key}: ${message}`);
    this.name = 'SettingsError';
  }
}

const text = (key: string, value: unknown): string => {
  if (typeof value !== 'string' || value.trim() === '') throw new SettingsError(key, 'expected a non-empty string');
  return value.trim();
};

const integer = (key: string, value: unknown, min: number, max: number): number => {
  const n =
    typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw new SettingsError(key, `expected an integer from ${min} to ${max}`);
  return n;
};

const flag = (key: string, value: unknown): boolean => {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new SettingsError(key, 'expected true or false');
};

/** Reads every setting from context, falling back to DEFAULT_SETTINGS for each one not given. */
export function readSettings(tryGetContext: (key: string) => unknown): TriggersSettings {
  const get = (key: keyof TriggersSettings) => {
    const value = tryGetContext(key);
    return value === undefined || value === '' ? undefined : value;
  };
  const settings = { ...DEFAULT_SETTINGS };
  const stackName = get('stackName');
  if (stackName !== undefined) {
    settings.stackName = text('stackName', stackName);
    if (!/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(settings.stackName)) throw new SettingsError('stackName', 'letters, digits and -');
  }
  const schedule = get('schedule');
  if (schedule !== undefined) {
    settings.schedule = text('schedule', schedule);
    if (!/^(rate|cron)\(.+\)$/.test(settings.schedule)) throw new SettingsError('schedule', 'expected rate(…) or cron(…)');
  }
  const streams = get('streams');
  if (streams !== undefined) settings.streams = flag('streams', streams);
  const batch = get('streamBatchSize');
  if (batch !== undefined) settings.streamBatchSize = integer('streamBatchSize', batch, 1, 10_000);
  const max = get('maxEventsPerRun');
  if (max !== undefined) settings.maxEventsPerRun = integer('maxEventsPerRun', max, 1, 100_000);
  const namespace = get('metricsNamespace');
  if (namespace !== undefined) settings.metricsNamespace = text('metricsNamespace', namespace);
  const origins = get('corsOrigins');
  if (origins !== undefined) {
    const list = Array.isArray(origins) ? origins : text('corsOrigins', origins).split(',');
    settings.corsOrigins = list.map((origin) => text('corsOrigins', origin));
  }
  const email = get('alarmEmail');
  if (email !== undefined) settings.alarmEmail = text('alarmEmail', email);
  const architecture = get('architecture');
  if (architecture !== undefined) {
    if (architecture !== 'arm64' && architecture !== 'x86_64')
      throw new SettingsError('architecture', 'expected arm64 or x86_64');
    settings.architecture = architecture;
  }
  const runtime = get('runtime');
  if (runtime !== undefined) {
    const known = RUNTIMES.find((name) => name === runtime);
    if (!known) throw new SettingsError('runtime', `expected one of ${RUNTIMES.join(', ')}`);
    settings.runtime = known;
  }
  return settings;
}

/** `-c key=value` / `--context key=value` pairs from a command line, as `cdk synth` takes them. */
export function contextFromArgs(argv: string[]): Record<string, string> {
  const context: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    let pair: string | undefined;
    if (arg === '-c' || arg === '--context') pair = argv[++i];
    else if (arg.startsWith('--context=')) pair = arg.slice('--context='.length);
    else throw new SettingsError(arg, 'unknown argument; pass options as -c key=value');
    const eq = pair?.indexOf('=') ?? -1;
    if (pair === undefined || eq < 1) throw new SettingsError(pair ?? arg, 'expected key=value');
    context[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return context;
}
