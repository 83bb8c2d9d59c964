/**
 * `triggers keys` against the database, and the keys it makes used on a real `triggers serve`:
 * the scopes hold, and a revocation made by the CLI shuts the key out.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freshDir, runCli, startServe } from '../support/process.js';

const dir = freshDir();
after(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const run = runCli(['keys', ...args], dir);
  const code = await run.exited;
  return { code, out: run.stdout(), err: run.stderr() };
}

describe('security: triggers keys', () => {
  it('creates, lists and revokes keys; serve honours their scopes and the revocation', async () => {
    const created = await cli('create', '--name', 'ci', '--scopes', 'ingest,read', '--rate-limit', '50');
    assert.equal(created.code, 0, created.err);
    const key = /^(trg_[\w-]{43})$/m.exec(created.out)?.[1];
    assert.ok(key, created.out);
    const id = /^(key_\w+)\t/m.exec(created.out)?.[1];
    assert.ok(id);

    const listed = await cli('list');
    assert.equal(listed.code, 0);
    assert.match(listed.out, new RegExp(`^${id}\\tci\\tingest,read\\t${key.slice(0, 8)}…\\t50/s\\tactive$`, 'm'));
    assert.ok(!listed.out.includes(key), 'the key is shown only when created');
    assert.ok(!readFileSync(join(dir, 'data', 'triggers.db'), 'latin1').includes(key), 'only its digest is stored');

    let server = await startServe(dir);
    try {
      const send = (path: string, method = 'GET', body?: unknown) =>
        fetch(server.url + path, {
          method,
          headers: { 'x-api-key': key, ...(body ? { 'content-type': 'application/json' } : {}) },
          body: body ? JSON.stringify(body) : undefined,
        });
      assert.equal((await send('/events', 'POST', { type: 'a.b', source: 'cli', payload: {} })).status, 201);
      assert.equal((await send('/events')).status, 200);
      assert.equal((await send('/keys')).status, 403);
    } finally {
      await server.kill();
    }

    const revoked = await cli('revoke', id);
    assert.equal(revoked.code, 0, revoked.err);
    assert.match(revoked.out, /\trevoked \d{4}-/);
    assert.equal((await cli('revoke', 'key_nope')).code, 1);
    assert.equal((await cli('create', '--name', 'x', '--scopes', 'root')).code, 2, 'a bad flag is a configuration error');
    assert.equal((await cli('frobnicate')).code, 2);

    server = await startServe(dir);
    try {
      assert.equal((await fetch(`${server.url}/events`, { headers: { 'x-api-key': key } })).status, 401);
    } finally {
      await server.kill();
    }
  });
});
