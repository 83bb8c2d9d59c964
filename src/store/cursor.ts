/**
 * Opaque keyset cursors, shared by every backend: base64url of a small JSON array
 * `[kind, ...sortKey]`. The kind tag keeps a cursor from one listing from being accepted by
 * another. Anything that does not decode to the expected shape is a client error
 * (400 invalid_cursor), never a 500.
 */
import { ValidationError } from '../core/errors.js';

type Key = string | number;

export function encodeCursor(kind: string, key: readonly Key[]): string {
  return Buffer.from(JSON.stringify([kind, ...key])).toString('base64url');
}

/** Decodes a cursor whose key has the given column types; null/undefined cursor → null. */
export function decodeCursor<T extends readonly ('string' | 'number')[]>(
  kind: string,
  cursor: string | null | undefined,
  types: T,
): { [K in keyof T]: T[K] extends 'string' ? string : number } | null {
  if (cursor === null || cursor === undefined) return null;
  const invalid = () => new ValidationError('cursor is not valid for this listing', undefined, 'invalid_cursor');
  if (!/^[A-Za-z0-9_-]{1,1000}$/.test(cursor)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed.length !== types.length + 1 || parsed[0] !== kind) throw invalid();
  const key = parsed.slice(1);
  for (const [index, type] of types.entries()) {
    const value: unknown = key[index];
    if (type === 'number' ? !Number.isSafeInteger(value) : typeof value !== 'string') throw invalid();
  }
  return key as { [K in keyof T]: T[K] extends 'string' ? string : number };
}
