import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeDirectory } from '../../src/core/directories.js';

test('makeDirectory creates missing parents, is repeatable, and fails (not hangs) where a level cannot be made', () => {
  const root = mkdtempSync(join(tmpdir(), 'triggers-dirs-'));
  try {
    const deep = join(root, 'a', 'b', 'c');
    makeDirectory(deep);
    assert.ok(existsSync(deep));
    makeDirectory(deep);
    writeFileSync(join(root, 'file'), 'x');
    assert.throws(() => makeDirectory(join(root, 'file', 'sub')), { code: 'ENOTDIR' });
    // Node's own recursive mkdir never returns here.
    if (existsSync('/proc/self')) assert.throws(() => makeDirectory('/proc/triggers-nope/data'), { code: 'ENOENT' });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
