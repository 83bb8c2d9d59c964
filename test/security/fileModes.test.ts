/**
 * The SQLite file holds what secrets.json holds (the default subscription's signing secret), and
 * more: every subscription and receiver secret (plaintext unless TRIGGERS_ENCRYPTION_KEY is set),
 * every payload, every received request's headers. A database Triggers creates is therefore
 * private to its owner, as secrets.json is (0600), whatever the umask; so are its WAL files.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openSqliteStore } from '../../src/store/sqlite/index.js';

const mode = (path: string): number => statSync(path).mode & 0o777;

describe('security: file modes', { skip: process.platform === 'win32' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'triggers-modes-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the database and its WAL files readable by the owner only', async () => {
    const path = join(dir, 'new.db');
    const store = await openSqliteStore(path);
    await store.createSubscription({
      id: 'sub',
      url: null,
      event_types: ['*'],
      secrets: [{ secret: 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=', expires_at: null }],
      status: 'active',
      description: null,
      disabled_reason: null,
      metadata: {},
    });
    try {
      for (const file of [path, `${path}-wal`, `${path}-shm`]) assert.equal(mode(file).toString(8), '600', file);
    } finally {
      await store.close();
    }
  });

  it('leaves the mode of an existing database as the operator set it', async () => {
    const path = join(dir, 'existing.db');
    writeFileSync(path, '');
    chmodSync(path, 0o640);
    const store = await openSqliteStore(path);
    await store.close();
    assert.equal(mode(path).toString(8), '640');
  });
});
