/**
 * The fleet tests' processes: `triggers serve` (the real CLI, through test/support/process.ts)
 * until /health answers. Unlike startServe, each child is recorded before the wait, so one that
 * starts too slowly is still killed by `killAll()` and never keeps the test runner alive; and a
 * start gets more time, since several processes compile and migrate at once on two cores.
 */
import { freePort, freshDir, runCli, type Server } from '../support/process.js';

const START_TIMEOUT_MS = 45_000;

export class Processes {
  readonly servers: Server[] = [];

  async serve(env: Record<string, string>, args: string[]): Promise<Server> {
    const port = await freePort();
    const run = runCli(['serve', ...args], freshDir(), { TRIGGERS_PORT: String(port), ...env });
    const url = `http://127.0.0.1:${port}`;
    const server: Server = {
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
    this.servers.push(server);
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (run.child.exitCode !== null)
        throw new Error(`serve ${args.join(' ')} exited with ${run.child.exitCode}: ${run.stderr()}`);
      try {
        if ((await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) })).ok) return server;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline)
        throw new Error(`serve ${args.join(' ')} did not become healthy in ${START_TIMEOUT_MS} ms: ${run.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async killAll(): Promise<void> {
    await Promise.all(this.servers.map((server) => server.kill('SIGKILL')));
  }
}
