/**
 * The HTTP load generator: autocannon, run in this process against a child server; or, with
 * BENCH_LOADGEN=wrk, wrk (Debian's package, written in C), which leaves more of a small machine
 * to the server under test. Every side of a comparison uses the same generator in a run.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';

export const EVENT_BODY = JSON.stringify({
  type: 'order.created',
  source: 'bench',
  payload: {
    order_id: 12345,
    amount: 99.5,
    currency: 'EUR',
    customer: { id: 'cus_42', tier: 'gold' },
    items: [{ sku: 'A-1', qty: 2 }],
  },
});

export interface LoadResult {
  requestsPerSecond: number;
  total: number;
  non2xx: number;
  errors: number;
  latencyP50: number;
  latencyP99: number;
}

export async function hammer(
  url: string,
  options: { seconds: number; connections: number; body?: string; headers?: Record<string, string> },
): Promise<LoadResult> {
  if (process.env.BENCH_LOADGEN === 'wrk') return wrk(url, options);
  const result = await autocannon({
    url,
    method: 'POST',
    connections: options.connections,
    duration: options.seconds,
    body: options.body ?? EVENT_BODY,
    headers: { 'content-type': 'application/json', ...options.headers },
  });
  return {
    requestsPerSecond: result.requests.mean,
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
  };
}

const luaString = (text: string): string => `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** Milliseconds from a wrk figure such as `812.00us`, `1.23ms` or `1.05s`. */
function wrkMs(figure: string): number {
  const match = /^([\d.]+)(us|ms|s)$/.exec(figure);
  if (!match) return Number.NaN;
  const value = Number(match[1]);
  return match[2] === 'us' ? value / 1000 : match[2] === 's' ? value * 1000 : value;
}

async function wrk(
  url: string,
  options: { seconds: number; connections: number; body?: string; headers?: Record<string, string> },
): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'triggers-wrk-'));
  const script = join(dir, 'post.lua');
  const headers = { 'content-type': 'application/json', ...options.headers };
  writeFileSync(
    script,
    [
      'wrk.method = "POST"',
      `wrk.body = ${luaString(options.body ?? EVENT_BODY)}`,
      ...Object.entries(headers).map(([name, value]) => `wrk.headers[${luaString(name)}] = ${luaString(value)}`),
    ].join('\n'),
  );
  try {
    const output = await new Promise<string>((resolve, reject) =>
      execFile(
        process.env.BENCH_WRK ?? 'wrk',
        ['-t1', `-c${options.connections}`, `-d${options.seconds}s`, '--latency', '-s', script, url],
        (error, stdout) => (error ? reject(error) : resolve(stdout)),
      ),
    );
    const number = (pattern: RegExp) => Number(pattern.exec(output)?.[1] ?? 0);
    const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
    return {
      requestsPerSecond: number(/Requests\/sec:\s+([\d.]+)/),
      total: number(/(\d+) requests in/),
      non2xx: number(/Non-2xx or 3xx responses: (\d+)/),
      errors: errors ? errors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0,
      latencyP50: wrkMs(/\s50%\s+(\S+)/.exec(output)?.[1] ?? ''),
      latencyP99: wrkMs(/\s99%\s+(\S+)/.exec(output)?.[1] ?? ''),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Rounds of one load as one result: rates and latency percentiles averaged, counts summed. */
export function averageRounds(rounds: LoadResult[]): LoadResult {
  const sum = (pick: (round: LoadResult) => number) => rounds.reduce((total, round) => total + pick(round), 0);
  const mean = (pick: (round: LoadResult) => number) => Math.round((sum(pick) / rounds.length) * 100) / 100;
  return {
    requestsPerSecond: mean((round) => round.requestsPerSecond),
    total: sum((round) => round.total),
    non2xx: sum((round) => round.non2xx),
    errors: sum((round) => round.errors),
    latencyP50: mean((round) => round.latencyP50),
    latencyP99: mean((round) => round.latencyP99),
  };
}
