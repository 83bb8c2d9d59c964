#!/usr/bin/env node
/**
 * `triggers <command>`: one file per command beside this one; this file only routes, and turns
 * what a command throws into one line on stderr: invalid configuration exits 2, a failure
 * (failure.ts) or anything else exits 1. Stack traces only at TRIGGERS_LOG_LEVEL=debug.
 */
import { loadConfig } from '../config/config.js';
import { ConfigError } from '../core/errors.js';
import { commandHelp, commands, isCommand, usage, wantsHelp } from './commands.js';
import { CommandFailure } from './failure.js';

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === 'help' && rest[0] !== undefined) return help(rest[0]);
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(usage());
    return 0;
  }
  if (name === 'version' || name === '--version' || name === '-v') {
    const { VERSION } = await import('../version.js');
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (!isCommand(name)) return unknown(name);
  if (wantsHelp(rest)) return help(name);
  return commands[name].run(rest);
}

function help(name: string): number {
  if (!isCommand(name)) return unknown(name);
  process.stdout.write(commandHelp(name));
  return 0;
}

function unknown(name: string): number {
  process.stderr.write(`triggers: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
  return 2;
}

/** TRIGGERS_LOG_LEVEL=debug or trace (from the environment or .env): print stack traces too. */
function debugging(): boolean {
  let level = process.env.TRIGGERS_LOG_LEVEL;
  try {
    level = loadConfig().logLevel;
  } catch {
    // Invalid configuration: the environment's value is all there is.
  }
  return level === 'debug' || level === 'trace';
}

function report(error: unknown): number {
  if (error instanceof ConfigError) {
    process.stderr.write(`triggers: invalid configuration: ${error.message}\n`);
    return 2;
  }
  const stack = (value: unknown) => (value instanceof Error && value.stack ? `${value.stack}\n` : '');
  if (error instanceof CommandFailure) {
    process.stderr.write(`triggers: ${error.message}\n`);
    if (debugging()) process.stderr.write(stack(error.cause ?? error));
    return 1;
  }
  // Not a failure we know how to explain: say what it is in one line; the trace is for debugging.
  const line = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  if (debugging()) process.stderr.write(`triggers: ${stack(error) || `${line}\n`}`);
  else process.stderr.write(`triggers: ${line} (TRIGGERS_LOG_LEVEL=debug prints the stack trace)\n`);
  return 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    // Long-running commands resolve only when they are done; everything else exits here.
    if (code !== -1) process.exitCode = code;
  },
  (error: unknown) => {
    process.exitCode = report(error);
  },
);
