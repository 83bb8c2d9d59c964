/**
 * A whole Triggers process in the test's own process — API, in-process dispatcher, receiver
 * and console, on a real SQLite file and a real port — as `triggers serve` wires it
 * (`startTriggers`). The port is chosen first so the server knows its own URL (the receiver's
 * origin, which the demo subscription points at).
 */
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { startTriggers, type Triggers } from '../../src/app.js';
import type { Env } from '../../src/config/config.js';
import { testConfig } from '../api/helpers.js';

export const CONSOLE_API_KEY = 'test-api-key-0123456789';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface ConsoleServer {
  triggers: Triggers;
  url: string;
  apiKey: string;
  /** fetch with the API key; JSON in and out. */
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  close(): Promise<void>;
}

export async function startConsoleServer(env: Env = {}): Promise<ConsoleServer> {
  const port = await freePort();
  const config = testConfig({ TRIGGERS_HOST: '127.0.0.1', TRIGGERS_PORT: String(port), ...env });
  const triggers = await startTriggers(config);
  const url = `http://127.0.0.1:${port}`;
  return {
    triggers,
    url,
    apiKey: config.apiKey,
    async api<T>(method: string, path: string, body?: unknown): Promise<T> {
      const headers: Record<string, string> = { 'x-api-key': config.apiKey };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
      return (text === '' ? undefined : JSON.parse(text)) as T;
    },
    async close() {
      await triggers.stop();
      rmSync(config.dataDir, { recursive: true, force: true });
    },
  };
}
