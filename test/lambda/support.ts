/**
 * Shared by the Lambda handler tests: a fresh folder with a SQLite file (or, once it lands, a
 * DynamoDB table on dynalite) as the handlers' store, the environment a deployment would give
 * them, and a logger whose lines the test can read.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Env } from '../../src/config/config.js';
import type { Logger } from '../../src/observability/logger.js';

export const API_KEY = 'lambda-test-api-key-0123456789';
export const JWT_SECRET = 'lambda-test-jwt-secret-0123456789abcdef';
export const WEBHOOK_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

export interface TestEnv {
  env: Env;
  dir: string;
  cleanup(): void;
}

/** The environment of a deployed function, with a SQLite file standing in for the table. */
export function lambdaEnv(extra: Env = {}): TestEnv {
  const dir = mkdtempSync(join(tmpdir(), 'triggers-lambda-'));
  const env: Env = {
    TRIGGERS_DATA_DIR: dir,
    TRIGGERS_DATABASE_URL: `sqlite:${join(dir, 'triggers.db')}`,
    TRIGGERS_LOG_LEVEL: 'info',
    TRIGGERS_ALLOW_PRIVATE_TARGETS: 'true',
    TRIGGERS_RETRY_SCHEDULE: '50ms,100ms',
    TRIGGERS_DELIVERY_TIMEOUT: '2s',
    ...extra,
  };
  return { env, dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface CapturedLog {
  logger: Logger;
  lines: Record<string, unknown>[];
  messages(): string[];
}

export function captureLogger(): CapturedLog {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines, messages: () => lines.map((line) => String(line.msg)) };
}

/** Collects what a handler prints (EMF lines). */
export function captureOutput(): { write: (line: string) => void; lines: string[]; json(): Record<string, unknown>[] } {
  const lines: string[] = [];
  return {
    write: (line) => lines.push(line),
    lines,
    json: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
