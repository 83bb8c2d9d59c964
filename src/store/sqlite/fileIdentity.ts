/**
 * The database file as it was opened. SQLite keeps writing to an open file even after someone
 * deletes or replaces it at its path — every write after that would be gone at the next start —
 * so before a batch is reported stored, and on every health check, the path must still name the
 * file that was opened (same device and inode). One stat() a commit, not a request.
 */
import { statSync } from 'node:fs';
import { UnavailableError } from '../../core/errors.js';

export class FileIdentity {
  private readonly dev: number;
  private readonly ino: number;

  constructor(private readonly path: string) {
    const stats = statSync(path);
    this.dev = stats.dev;
    this.ino = stats.ino;
  }

  /** null while the path still names the opened file; else the error to report. */
  check(): UnavailableError | null {
    let moved: string | null = null;
    try {
      const stats = statSync(this.path);
      if (stats.ino !== this.ino || stats.dev !== this.dev) moved = 'was replaced by another file';
    } catch (error) {
      moved = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'was deleted' : `cannot be read (${(error as Error).message})`;
    }
    if (moved === null) return null;
    return new UnavailableError(
      `the database file ${this.path} ${moved} while Triggers had it open: nothing written now would survive a restart; restore the file or restart Triggers`,
      30,
    );
  }
}
