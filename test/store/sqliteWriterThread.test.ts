/**
 * The SQLite store's writer thread, beyond what the conformance suite already runs through it:
 * errors keep their class and status across the thread, and an idle thread never keeps a
 * process from exiting (CLI commands open the store, write, and end).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  AuthError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  TriggersError,
  UnavailableError,
  ValidationError,
} from '../../src/core/errors.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { fromPlainError, toPlainError } from '../../src/store/sqlite/threadWriter.js';

const run = promisify(execFile);

describe('SQLite writer thread', () => {
  it('rebuilds every error class with its status, code and details', () => {
    const cases: TriggersError[] = [
      new ValidationError('bad', { field: 'type' }, 'invalid_type'),
      new AuthError('who?', 'invalid_credentials'),
      new ForbiddenError('no', 'missing_scope'),
      new NotFoundError('event', 'evt_1'),
      new ConflictError('taken', 'id_taken'),
      new UnavailableError('disk full', 5, 'storage_full'),
    ];
    for (const original of cases) {
      const rebuilt = fromPlainError(structuredClone(toPlainError(original)));
      assert.ok(rebuilt instanceof TriggersError);
      assert.equal(rebuilt.name, original.name);
      assert.equal(rebuilt.message, original.message);
      assert.equal((rebuilt as TriggersError).status, original.status);
      assert.equal((rebuilt as TriggersError).code, original.code);
      assert.deepEqual((rebuilt as TriggersError).details, original.details);
    }
    const unavailable = fromPlainError(structuredClone(toPlainError(new UnavailableError('x', 7))));
    assert.ok(unavailable instanceof UnavailableError);
    assert.equal(unavailable.retryAfterSeconds, 7);
    const driver = Object.assign(new Error('constraint failed'), { code: 'SQLITE_CONSTRAINT_UNIQUE' });
    const plain = fromPlainError(structuredClone(toPlainError(driver))) as Error & { code?: string };
    assert.equal(plain.message, 'constraint failed');
    assert.equal(plain.code, 'SQLITE_CONSTRAINT_UNIQUE');
  });

  it('answers a duplicate id from the thread as a ConflictError', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'triggers-writer-'));
    try {
      const store = await openSqliteStore(join(dir, 'triggers.db'));
      const event = { id: 'evt_same', type: 't', source: 's', payload: {}, created_at: Date.now() };
      await store.append({ events: [event] });
      await assert.rejects(store.append({ events: [event] }), ConflictError);
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('lets a process that wrote and did not close the store exit, with the write on disk', { timeout: 30_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'triggers-writer-'));
    try {
      const path = join(dir, 'triggers.db');
      const fixture = fileURLToPath(new URL('./fixtures/appendOnce.ts', import.meta.url));
      const { stdout } = await run(process.execPath, ['--import', 'tsx', fixture, path], { timeout: 20_000 });
      const id = stdout.trim();
      assert.match(id, /^evt_/);
      const store = await openSqliteStore(path);
      assert.equal((await store.getEvent(id))?.id, id);
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
