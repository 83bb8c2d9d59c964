/**
 * Runs the real `triggers` command line (from source, through tsx) as a child process, the way a
 * user runs it, on a free port and a fresh data directory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'src/cli/main.ts');
// Resolved here, not from the child's working directory (a fresh temp folder).
const TSX = import.meta.resolve('tsx');

export const freshDir = (): string => mkdtempSync(join(tmpdir(), 'triggers-e2e-'));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Run {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

/** Starts `triggers <args>` in `cwd` with `env` on top of a clean TRIGGERS_* environment. */
export function runCli(args: string[], cwd: string, env: Record<string, string> = {}): Run {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('TRIGGERS_')));
  const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], {
    cwd,
    env: { ...clean, TRIGGERS_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

export interface Server {
  run: Run;
  url: string;
  port: number;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** `triggers serve` until /health answers. */
export async function startServe(cwd: string, env: Record<string, string> = {}, args: string[] = []): Promise<Server> {
  const port = await freePort();
  const run = runCli(['serve', ...args], cwd, { TRIGGERS_PORT: String(port), ...env });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (run.child.exitCode !== null) throw new Error(`serve exited with ${run.child.exitCode}: ${run.stderr()}`);
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`serve did not become healthy: ${run.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    run,
    url,
    port,
    kill: async (signal = 'SIGTERM') => {
      if (run.child.exitCode === null && run.child.signalCode === null) {
        run.child.kill(signal);
        await run.exited;
      }
    },
  };
}
