#!/usr/bin/env node
/**
 * `triggers <command>`: one file per command beside this one; this file only routes and turns
 * configuration errors into a clear message and exit code 2.
 */
import { ConfigError } from '../core/errors.js';
import { commandHelp, commands, isCommand, usage, wantsHelp } from './commands.js';

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

main(process.argv.slice(2)).then(
  (code) => {
    // Long-running commands resolve only when they are done; everything else exits here.
    if (code !== -1) process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`triggers: invalid configuration: ${error.message}\n`);
      process.exitCode = 2;
      return;
    }
    if (error instanceof Error && 'code' in error && error.code === 'EADDRINUSE') {
      process.stderr.write(`triggers: ${error.message} (is another Triggers running? set TRIGGERS_PORT)\n`);
      process.exitCode = 1;
      return;
    }
    process.stderr.write(`triggers: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
