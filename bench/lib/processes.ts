/**
 * Child processes for benchmarks: Triggers itself (from dist/, as users run it), sinks and
 * baseline servers. Each runs in its own process so the load generator (this process) and the
 * server under test share the machine the same way in every measurement.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Child {
  process: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

/** Waits for a line `LISTENING <url>` on stdout (our helpers print it) or for /health. */
function waitForListening(child: ChildProcess, name: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString();
      const match = /LISTENING (\S+)/.exec(buffered);
      if (match) {
        child.stdout?.off('data', onData);
        resolve(match[1] as string);
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before listening: ${buffered}`)));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Runs a TypeScript helper script (in bench/) that prints `LISTENING <url>`. */
export async function startScript(script: string, args: string[] = [], env: Record<string, string> = {}): Promise<Child> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', script), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  const url = await waitForListening(child, script);
  return { process: child, url, stop: () => stopChild(child) };
}

export interface TriggersChild extends Child {
  apiKey: string;
  dataDir: string;
}

/**
 * Extra node flags for the server under test, e.g. BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/p"
 * to profile it; with flags set, its stdout is passed through (so `--trace-gc` shows).
 */
function nodeArgs(): string[] {
  return (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
}

/**
 * A port the kernel just handed out as free. A port picked at random can collide with the
 * ephemeral ports of the benchmark's own outgoing connections; one the kernel chose rarely does,
 * and startTriggers tries again with another if it was taken in between.
 */
async function unusedPort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  probe.close();
  await once(probe, 'close');
  return port;
}

/** Starts `triggers serve` from dist/ on a fresh data directory (or the given one). */
export async function startTriggers(env: Record<string, string> = {}, dataDir?: string): Promise<TriggersChild> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startTriggersOn(await unusedPort(), env, dataDir);
    } catch (error) {
      if (!(error instanceof PortTaken) || attempt === 3) throw error;
    }
  }
}

class PortTaken extends Error {}

async function startTriggersOn(portNumber: number, env: Record<string, string>, dataDir?: string): Promise<TriggersChild> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'triggers-bench-'));
  const apiKey = 'bench-api-key-0123456789';
  const port = String(portNumber);
  const child = spawn(process.execPath, [...nodeArgs(), join(ROOT, 'dist/cli/main.js'), 'serve'], {
    stdio: ['ignore', nodeArgs().length > 0 ? 'inherit' : 'ignore', 'pipe'],
    cwd: dir,
    env: {
      ...process.env,
      TRIGGERS_DATA_DIR: dir,
      TRIGGERS_PORT: port,
      TRIGGERS_API_KEY: apiKey,
      TRIGGERS_LOG_LEVEL: 'warn',
      TRIGGERS_ALLOW_PRIVATE_TARGETS: 'true',
      ...env,
    },
  });
  // Its errors still reach the terminal; a port taken under it is noted so it can try another.
  let portTaken = false;
  child.stderr?.on('data', (chunk: Buffer) => {
    if (chunk.includes('EADDRINUSE')) portTaken = true;
    process.stderr.write(chunk);
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      if (!dataDir) rmSync(dir, { recursive: true, force: true });
      if (portTaken) throw new PortTaken(`port ${port} was taken`);
      throw new Error(`triggers exited with ${child.exitCode}`);
    }
    try {
      const response = await fetch(`${url}/health`);
      if (response.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error('triggers did not become healthy in 30 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    process: child,
    url,
    apiKey,
    dataDir: dir,
    stop: async () => {
      await stopChild(child);
      if (!dataDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
