/**
 * Ids: a prefix and a ULID (48-bit millisecond time + 80 random bits, Crockford base32), so ids
 * sort by creation time as strings, carry no `.` (Standard Webhooks signs "id.timestamp.body"),
 * and are safe in URLs. Monotonic within a process: two ids made in the same millisecond still
 * sort in creation order.
 */
import { randomBytes, randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

let lastTime = -1;
// 80 bits of randomness as 16 base32 digits, incremented for same-millisecond ids.
const lastRandom = new Uint8Array(16);

function encodeTime(time: number): string {
  let out = '';
  let t = time;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[t % 32] + out;
    t = Math.floor(t / 32);
  }
  return out;
}

// Random bytes drawn 4 KiB at a time: one call to the system's generator costs about as much for
// 4,096 bytes as for 16 (several µs), and a fresh ULID needs 16 every millisecond. Each byte is
// used once.
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function freshRandom(): void {
  if (poolOffset + 16 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  for (let i = 0; i < 16; i++) lastRandom[i] = (pool[poolOffset + i] as number) & 31;
  poolOffset += 16;
  // Leave headroom so increments within one millisecond never overflow.
  lastRandom[0] = (lastRandom[0] as number) & 15;
}

function incrementRandom(): void {
  for (let i = 15; i >= 0; i--) {
    const digit = lastRandom[i] as number;
    if (digit < 31) {
      lastRandom[i] = digit + 1;
      return;
    }
    lastRandom[i] = 0;
  }
}

/** A ULID for `time` (ms). */
export function ulid(time: number = Date.now()): string {
  if (time > lastTime) {
    lastTime = time;
    freshRandom();
  } else {
    incrementRandom();
  }
  let random = '';
  for (let i = 0; i < 16; i++) random += ALPHABET[lastRandom[i] as number];
  return encodeTime(Math.max(time, lastTime)) + random;
}

export const newEventId = (time?: number): string => `evt_${ulid(time)}`;
export const newSubscriptionId = (): string => `sub_${ulid()}`;
export const newLeaseToken = (): string => randomBytes(12).toString('base64url');

/** Ids accepted in URLs: letters, digits, `_` and `-`, 1 to 128 of them. */
export const ID_PATTERN = '^[A-Za-z0-9_-]{1,128}$';
const idRegex = new RegExp(ID_PATTERN);
export const isValidId = (id: string): boolean => idRegex.test(id);
