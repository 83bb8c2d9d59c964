/**
 * A webhook sink that costs the machine as little as possible: nginx (Debian's package) answering
 * 200 to every POST, logging `$msec $http_webhook_id` per request. The Node sink (bench/sink.ts)
 * spends about a core at 8,000 requests/s, and on a 2-core machine that core is taken from the
 * sender under test; with nginx the sender has the machine to itself and the drain figures say
 * what Triggers can send rather than what a Node server can receive. Counts, first/last arrival
 * and duplicate webhook-ids come from the access log. Select with BENCH_SINK=nginx.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Child } from './processes.js';

export interface SinkCounts {
  count: number;
  first_at: number;
  last_at: number;
  duplicates: number;
  latencies: number[];
}

export interface NginxSink extends Child {
  stats(): Promise<SinkCounts>;
  reset(): Promise<void>;
}

export const NGINX = process.env.BENCH_NGINX ?? '/usr/sbin/nginx';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function startNginxSink(): Promise<NginxSink> {
  const dir = mkdtempSync(join(tmpdir(), 'triggers-nginx-'));
  const port = await freePort();
  const log = join(dir, 'access.log');
  writeFileSync(log, '');
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  client_body_buffer_size 64k;
  keepalive_requests 10000000;
  keepalive_timeout 120s;
  log_format sink '$msec $http_webhook_id';
  server {
    listen 127.0.0.1:${port};
    location / {
      access_log ${log} sink buffer=256k flush=50ms;
      return 200 "ok";
    }
  }
}
`,
  );
  const child = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}`);
    const answered = await fetch(`${url}/ping`, { method: 'POST' }).then(
      (response) => response.ok,
      () => false,
    );
    if (answered) break;
    if (Date.now() > deadline) throw new Error('nginx did not start');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  // The log is read incrementally: only the bytes added since the last look are parsed.
  let offset = 0;
  let partial = '';
  let counts: SinkCounts = { count: 0, first_at: 0, last_at: 0, duplicates: 0, latencies: [] };
  let seen = new Set<string>();
  const flushWait = () => new Promise((resolve) => setTimeout(resolve, 120));
  const readNew = () => {
    const size = statSync(log).size;
    if (size <= offset) return;
    const buffer = Buffer.alloc(size - offset);
    const fd = openSync(log, 'r');
    try {
      readSync(fd, buffer, 0, buffer.length, offset);
    } finally {
      closeSync(fd);
    }
    offset = size;
    const lines = (partial + buffer.toString('latin1')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const space = line.indexOf(' ');
      const at = Number(line.slice(0, space)) * 1000;
      const id = line.slice(space + 1);
      if (!Number.isFinite(at)) continue;
      counts.count++;
      if (counts.first_at === 0) counts.first_at = at;
      counts.last_at = at;
      if (id !== '-') {
        if (seen.has(id)) counts.duplicates++;
        else seen.add(id);
      }
    }
  };

  const sink: NginxSink = {
    process: child,
    url,
    async stats() {
      readNew();
      return { ...counts };
    },
    async reset() {
      await flushWait();
      truncateSync(log, 0);
      offset = 0;
      partial = '';
      counts = { count: 0, first_at: 0, last_at: 0, duplicates: 0, latencies: [] };
      seen = new Set();
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGQUIT');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await sink.reset(); // forget the start-up probe
  return sink;
}
