/**
 * Turns SQLite failures into the error classes callers understand. Storage that cannot take a
 * write right now (disk full, I/O error, locked by another process, read-only, closed) becomes
 * UnavailableError (503, retry later) instead of a raw driver error that would surface as a 500.
 */
import { TriggersError, UnavailableError } from '../../core/errors.js';

const UNAVAILABLE = /^SQLITE_(FULL|IOERR|BUSY|LOCKED|READONLY|CANTOPEN|NOMEM|PROTOCOL|NOLFS|CORRUPT|NOTADB)/;

export function sqliteCode(error: unknown): string | null {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return null;
}

export const isConstraintError = (error: unknown): boolean => sqliteCode(error)?.startsWith('SQLITE_CONSTRAINT') ?? false;

/** Maps a thrown value to what the Store contract promises; leaves our own errors alone. */
export function mapSqliteError(error: unknown): unknown {
  if (error instanceof TriggersError) return error;
  const code = sqliteCode(error);
  if (code !== null && UNAVAILABLE.test(code)) {
    return new UnavailableError(`storage unavailable (${code}): ${(error as Error).message}`, code.startsWith('SQLITE_BUSY') ? 1 : 5);
  }
  // better-sqlite3 throws a TypeError once the connection is closed.
  if (error instanceof TypeError && /database connection is not open/i.test(error.message)) {
    return new UnavailableError('storage is closed', 5);
  }
  return error;
}
