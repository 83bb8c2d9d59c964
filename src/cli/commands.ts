/** The command table and the help text. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfig, type Env } from '../config/config.js';
import { ConfigError } from '../core/errors.js';
import { type CommandName, HELP } from './help.js';

/** A string flag's value, or undefined. */
export const text = (value: string | boolean | undefined): string | undefined => (typeof value === 'string' ? value : undefined);

export interface Command {
  summary: string;
  run(args: string[]): Promise<number>;
}

/** True when the arguments ask for help (`--help` or `-h` before any `--`). */
export function wantsHelp(args: string[]): boolean {
  for (const arg of args) {
    if (arg === '--') return false;
    if (arg === '--help' || arg === '-h') return true;
  }
  return false;
}

/**
 * Parses flags; an unknown flag, or an argument that is not a flag where the command takes
 * none (`positionals` false), is a configuration error with a clear message.
 */
export function flags(
  args: string[],
  options: NonNullable<ParseArgsConfig['options']>,
  { positionals = false }: { positionals?: boolean } = {},
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new ConfigError('command line', (error as Error).message);
  }
  if (!positionals && parsed.positionals.length > 0) {
    throw new ConfigError(
      'command line',
      `unexpected argument ${JSON.stringify(parsed.positionals[0])}: this command takes only flags (see --help)`,
    );
  }
  return { values: parsed.values as Record<string, string | boolean | undefined>, positionals: parsed.positionals };
}

/** Flags that stand for configuration variables. */
const FLAG_VARIABLES = {
  port: 'TRIGGERS_PORT',
  host: 'TRIGGERS_HOST',
  database: 'TRIGGERS_DATABASE_URL',
  role: 'TRIGGERS_ROLE',
  api: 'TRIGGERS_API_URL',
  'data-dir': 'TRIGGERS_DATA_DIR',
} as const;

type Flags = Record<string, string | boolean | undefined>;

/**
 * A setting as the user gave it, for messages: `--port (TRIGGERS_PORT)` when the flag was on
 * the command line, else the variable's name.
 */
export function settingName(values: Flags, flag: keyof typeof FLAG_VARIABLES): string {
  const variable = FLAG_VARIABLES[flag];
  return typeof values[flag] === 'string' && values[flag] !== '' ? `--${flag} (${variable})` : variable;
}

/** A ConfigError about a variable that a flag set, reworded to name the flag the user typed. */
export function asGiven(error: unknown, values: Flags): unknown {
  if (!(error instanceof ConfigError)) return error;
  for (const flag of Object.keys(FLAG_VARIABLES) as (keyof typeof FLAG_VARIABLES)[]) {
    if (FLAG_VARIABLES[flag] !== error.setting) continue;
    const name = settingName(values, flag);
    if (name === error.setting) return error;
    return new ConfigError(name, error.detail);
  }
  return error;
}

export function configFromFlags(values: Flags): ReturnType<typeof loadConfig> {
  const overrides: Env = {};
  for (const [flag, variable] of Object.entries(FLAG_VARIABLES)) {
    const value = values[flag];
    if (typeof value === 'string') overrides[variable] = value;
  }
  try {
    return loadConfig({ overrides });
  } catch (error) {
    throw asGiven(error, values);
  }
}

/** Every command has its help in help.ts: the type makes a missing one a compile error. */
export const commands: Record<CommandName, Command> = {
  serve: {
    summary: 'run the API, dispatcher, receiver and console (--role api|dispatcher|all)',
    run: async (args) => (await import('./serve.js')).serve(args),
  },
  dispatch: {
    summary: 'run the dispatcher against a remote API over HTTP (--once for one run)',
    run: async (args) => (await import('./dispatchCommand.js')).dispatch(args),
  },
  send: {
    summary: 'send an event: --type T --source S --payload JSON',
    run: async (args) => (await import('./send.js')).send(args),
  },
  migrate: { summary: 'apply database migrations and exit', run: async (args) => (await import('./migrate.js')).migrate(args) },
  keys: {
    summary: 'manage API keys in the database: create --name N --scopes ingest,read,admin | list | revoke ID',
    run: async (args) => (await import('./keys.js')).keys(args),
  },
  receive: {
    summary: 'run the receiver alone and print each request with its verdict (--port N --secret S)',
    run: async (args) => (await import('./receive.js')).receive(args),
  },
};

export const isCommand = (name: string): name is CommandName => Object.hasOwn(commands, name);

/** A command's own help: its flags and the variables it reads. */
export const commandHelp = (name: CommandName): string => HELP[name];

export function usage(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  const lines = Object.entries(commands).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`);
  return `Usage: triggers <command> [flags]\n\nCommands:\n${lines.join('\n')}\n\n\`triggers <command> --help\` (or \`triggers help <command>\`) prints a command's flags and variables.\nConfiguration comes from TRIGGERS_* environment variables and .env; see docs/configuration.md.\n`;
}
