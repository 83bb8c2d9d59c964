/**
 * API keys: one item per key under the partition `APIKEY` (sk = id, so listing is one Query),
 * and one digest item per key (`APIKEYHASH#<sha-256>`) that makes digests unique and finds a key
 * by digest. Creating puts the key, then its digest, each conditionally; a digest already taken
 * removes the key just put and is a ConflictError.
 */
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ApiKey, NewApiKey } from '../../core/apiKeys.js';
import { ConflictError } from '../../core/errors.js';
import type { EpochMs } from '../../core/types.js';
import { conditional, type Dynamo, Expr, isConditionalFailure, queryAll } from './client.js';
import { API_KEY_PK, apiKeyHashPk } from './keys.js';
import { toApiKey } from './rows.js';

export async function createApiKey(db: Dynamo, key: NewApiKey, now: EpochMs): Promise<ApiKey> {
  const created: ApiKey = { ...key, created_at: now, revoked_at: null };
  const put = (pk: string, sk: string, item: object) =>
    conditional(() =>
      db.doc.send(
        new PutCommand({ TableName: db.table, Item: { ...item, pk, sk }, ConditionExpression: 'attribute_not_exists(pk)' }),
      ),
    );
  if (!(await put(API_KEY_PK, key.id, created))) throw new ConflictError(`API key ${JSON.stringify(key.id)} already exists`);
  if (!(await put(apiKeyHashPk(key.hash), API_KEY_PK, { id: key.id }))) {
    await db.doc.send(new DeleteCommand({ TableName: db.table, Key: { pk: API_KEY_PK, sk: key.id } }));
    throw new ConflictError('an API key with this digest already exists');
  }
  return created;
}

export async function listApiKeys(db: Dynamo): Promise<ApiKey[]> {
  const expr = new Expr();
  const items = await queryAll(db, {
    KeyConditionExpression: `${expr.n('pk')} = ${expr.v(API_KEY_PK)}`,
    ...expr.params,
    ConsistentRead: true,
  });
  return items.map(toApiKey).sort((a, b) => a.created_at - b.created_at || (a.id < b.id ? -1 : 1));
}

export async function getApiKey(db: Dynamo, id: string): Promise<ApiKey | null> {
  const { Item: item } = await db.doc.send(
    new GetCommand({ TableName: db.table, Key: { pk: API_KEY_PK, sk: id }, ConsistentRead: true }),
  );
  return item === undefined ? null : toApiKey(item);
}

export async function getApiKeyByHash(db: Dynamo, hash: string): Promise<ApiKey | null> {
  const { Item: item } = await db.doc.send(
    new GetCommand({ TableName: db.table, Key: { pk: apiKeyHashPk(hash), sk: API_KEY_PK }, ConsistentRead: true }),
  );
  if (item === undefined) return null;
  const key = await getApiKey(db, String(item.id));
  return key?.hash === hash ? key : null;
}

export async function revokeApiKey(db: Dynamo, id: string, now: EpochMs): Promise<ApiKey | null> {
  const expr = new Expr();
  const revoked = expr.n('revoked_at');
  try {
    // The first revocation's time stays: written only while unset.
    await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: { pk: API_KEY_PK, sk: id },
        UpdateExpression: `SET ${revoked} = ${expr.v(now)}`,
        ConditionExpression: `attribute_exists(pk) AND (attribute_not_exists(${revoked}) OR ${revoked} = ${expr.v(null)})`,
        ...expr.params,
      }),
    );
  } catch (error) {
    if (!isConditionalFailure(error)) throw error;
  }
  return getApiKey(db, id);
}
