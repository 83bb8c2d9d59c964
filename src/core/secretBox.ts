/**
 * Secrets at rest (signing secrets, custom header values): AES-256-GCM with the key from `TRIGGERS_ENCRYPTION_KEY`.
 *
 *   enc:v1:<iv>:<tag>:<ciphertext>      each part base64url; a fresh 12-byte IV per value
 *
 * A value without the `enc:v1:` prefix is plaintext written before the key was set (or with no
 * key): it is read as is and encrypted the next time it is written. A ciphertext that does not
 * open with the configured key (wrong key, tampered row) throws: signing with garbage would fail
 * silently at every receiver, so it is better loud.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const PREFIX = 'enc:v1:';

export const isEncrypted = (value: string): boolean => value.startsWith(PREFIX);

/** 32 bytes as 64 hex digits or base64 (standard or url-safe); null when it is neither. */
export function parseEncryptionKey(text: string): Buffer | null {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(trimmed)) {
    const bytes = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (bytes.length === 32) return bytes;
  }
  return null;
}

export function encryptSecret(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return `${PREFIX}${iv.toString('base64url')}:${tag.toString('base64url')}:${ciphertext.toString('base64url')}`;
}

/** Plaintext passes through; a ciphertext is opened or throws. */
export function decryptSecret(key: Buffer | null, value: string): string {
  if (!isEncrypted(value)) return value;
  if (key === null) throw new Error('a stored secret is encrypted but TRIGGERS_ENCRYPTION_KEY is not set');
  const [iv, tag, ciphertext] = value.slice(PREFIX.length).split(':');
  if (iv === undefined || tag === undefined || ciphertext === undefined) throw new Error('malformed encrypted secret');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new Error('an encrypted stored secret does not open with TRIGGERS_ENCRYPTION_KEY (wrong key or altered value)');
  }
}
