/** API keys: stored as digests, found by digest, listed, revoked once and for all. */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { generateApiKey, hashApiKey } from '../../core/apiKeys.js';
import { ConflictError } from '../../core/errors.js';
import { type OpenStore, storeTest } from './harness.js';

export function apiKeyTests(open: OpenStore): void {
  const test = storeTest(open);

  describe('API keys', () => {
    test('create, find by digest, get, list', async ({ store, clock }) => {
      const { key, record } = generateApiKey('ci', ['ingest', 'read'], 50);
      const created = await store.createApiKey(record);
      assert.equal(created.created_at, clock.now);
      assert.equal(created.revoked_at, null);
      assert.deepEqual(created.scopes, ['ingest', 'read']);
      assert.equal(created.rate_limit, 50);
      assert.equal(created.hash, hashApiKey(key));
      assert.deepEqual(await store.getApiKeyByHash(hashApiKey(key)), created);
      assert.deepEqual(await store.getApiKey(record.id), created);
      assert.equal(await store.getApiKeyByHash(hashApiKey(`${key}x`)), null);
      assert.equal(await store.getApiKey('key_nope'), null);
      clock.advance(5);
      const second = await store.createApiKey(generateApiKey('admin', ['admin'], null).record);
      assert.equal(second.rate_limit, null);
      assert.deepEqual((await store.listApiKeys()).map((k) => k.id), [record.id, second.id]);
    });

    test('the plaintext key is stored nowhere the store hands back', async ({ store }) => {
      const { key, record } = generateApiKey('ci', ['read'], null);
      await store.createApiKey(record);
      assert.ok(!JSON.stringify(await store.listApiKeys()).includes(key));
    });

    test('a taken id or digest is a ConflictError', async ({ store }) => {
      const { record } = generateApiKey('a', ['read'], null);
      await store.createApiKey(record);
      await assert.rejects(store.createApiKey({ ...record, hash: hashApiKey('other') }), ConflictError);
      const other = generateApiKey('b', ['read'], null).record;
      await assert.rejects(store.createApiKey({ ...other, hash: record.hash }), ConflictError);
      assert.equal((await store.listApiKeys()).length, 1);
    });

    test('revoking keeps the first revocation time; unknown ids read as null', async ({ store, clock }) => {
      const { key, record } = generateApiKey('ci', ['ingest'], null);
      await store.createApiKey(record);
      clock.advance(100);
      const revoked = await store.revokeApiKey(record.id);
      assert.equal(revoked?.revoked_at, clock.now);
      const at = clock.now;
      clock.advance(100);
      assert.equal((await store.revokeApiKey(record.id))?.revoked_at, at);
      assert.equal((await store.getApiKeyByHash(hashApiKey(key)))?.revoked_at, at);
      assert.equal(await store.revokeApiKey('key_nope'), null);
    });
  });
}
