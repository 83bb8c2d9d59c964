/**
 * The SQLite file's disk fills up. The data folder lives on a small tmpfs mounted for this test
 * (8 MiB; needs root, as on CI; unmounted after), and a filler file takes all but ~512 KiB of it
 * once the server is up. Ingest then answers 503 with a JSON error naming the cause; the process
 * stays up; when the filler is deleted (space returns) ingest answers 201 again by itself. After
 * a clean stop, SQLite's integrity check passes and every event that was answered 201 — before,
 * during and after the full disk — is in the file.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { type Server, startServe } from '../support/process.js';
import { API_KEY, post, report, SKIP, sleep } from './support.js';

let mountDir: string | null = null;
let mounted = false;
let server: Server | null = null;

function tryMount(): string | null {
  const dir = mkdtempSync(join(tmpdir(), 'triggers-diskfull-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir], { stdio: 'pipe' });
    mounted = true;
    return dir;
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
}

before(() => {
  if (SKIP === false) mountDir = tryMount();
});

after(async () => {
  await server?.kill('SIGKILL');
  if (mountDir !== null) {
    if (mounted) execFileSync('umount', [mountDir], { stdio: 'pipe' });
    rmSync(mountDir, { recursive: true, force: true });
  }
});

const batch = (tag: string) => ({
  events: Array.from({ length: 50 }, (_, i) => ({ type: 'fault.disk', source: 'faults', payload: { tag, i, pad: 'p'.repeat(2000) } })),
});

async function ingest(url: string, tag: string): Promise<{ status: number; body: Record<string, unknown>; retryAfter: string | null }> {
  const response = await post(`${url}/events/batch`, batch(tag));
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, retryAfter: response.headers.get('retry-after') };
}

const idsOf = (body: Record<string, unknown>) => (body.events as { id: string }[]).map((e) => e.id);

describe('the SQLite disk filling up', { skip: SKIP, timeout: 60_000 }, () => {
  it('answers 503 with a clear error when full, corrupts nothing, recovers when space returns', async (t) => {
    if (mountDir === null) {
      t.skip('cannot mount a tmpfs here (needs root): the disk-full fault was not run');
      return;
    }
    const cwd = join(mountDir, 'app');
    mkdirSync(cwd);
    server = await startServe(cwd, { TRIGGERS_API_KEY: API_KEY, TRIGGERS_LOG_LEVEL: 'fatal' });
    const accepted: string[] = [];
    let sent = 0;
    const before = await ingest(server.url, 'before');
    sent += 50;
    assert.equal(before.status, 201);
    accepted.push(...idsOf(before.body));

    // Fill the disk, leaving ~512 KiB.
    const stats = statfsSync(mountDir);
    const free = Number(stats.bavail) * Number(stats.bsize);
    const filler = join(mountDir, 'filler');
    writeFileSync(filler, Buffer.alloc(Math.max(0, free - 512 * 1024)));

    let full: Awaited<ReturnType<typeof ingest>> | null = null;
    for (let i = 0; i < 200; i++) {
      const answer = await ingest(server.url, `filling-${i}`);
      sent += 50;
      if (answer.status === 201) {
        accepted.push(...idsOf(answer.body));
        continue;
      }
      full = answer;
      break;
    }
    assert.ok(full !== null, 'the disk never filled up');
    assert.equal(full.status, 503, JSON.stringify(full.body));
    const error = full.body.error as { code: string; message: string };
    assert.equal(error.code, 'unavailable');
    assert.match(error.message, /full/i, 'the message says the disk is full');
    assert.ok(full.retryAfter !== null, 'Retry-After tells the client when to come back');
    const acceptedWhenFull = accepted.length;

    // Still full: every answer a prompt 503, the process alive, reads still served.
    let rejected = 1;
    for (let i = 0; i < 5; i++) {
      const answer = await ingest(server.url, `full-${i}`);
      sent += 50;
      assert.equal(answer.status, 503);
      rejected++;
    }
    assert.equal(server.run.child.exitCode, null, 'the server did not exit');
    const read = await fetch(`${server.url}/events/${accepted[0]}`, { headers: { 'x-api-key': API_KEY } });
    assert.equal(read.status, 200);
    await read.body?.cancel();

    // Space returns: ingest recovers by itself.
    rmSync(filler);
    let recovered: Awaited<ReturnType<typeof ingest>> | null = null;
    const returnedAt = Date.now();
    for (let i = 0; i < 50; i++) {
      const answer = await ingest(server.url, `after-${i}`);
      sent += 50;
      if (answer.status === 201) {
        recovered = answer;
        break;
      }
      rejected++;
      await sleep(200);
    }
    assert.ok(recovered !== null, 'ingest did not recover after space returned');
    accepted.push(...idsOf(recovered.body));
    const recoveryMs = Date.now() - returnedAt;
    for (let i = 0; i < 5; i++) {
      const answer = await ingest(server.url, `after-more-${i}`);
      sent += 50;
      assert.equal(answer.status, 201);
      accepted.push(...idsOf(answer.body));
    }

    // Nothing corrupted, nothing accepted missing.
    await server.kill('SIGTERM');
    const db = new Database(join(cwd, 'data', 'triggers.db'), { readonly: true });
    const integrity = db.pragma('integrity_check', { simple: true });
    const present = new Set((db.prepare('SELECT id FROM events').all() as { id: string }[]).map((row) => row.id));
    db.close();
    const missing = accepted.filter((id) => !present.has(id));
    report('SQLite disk full (tmpfs 8 MiB), then space returns', {
      sent,
      accepted: accepted.length,
      accepted_before_full: acceptedWhenFull,
      rejected_503_events: rejected * 50,
      stored_after_restart: accepted.length - missing.length,
      integrity_check: integrity,
      recovered_ms_after_space_returned: recoveryMs,
      error_message: error.message,
    });
    assert.equal(integrity, 'ok');
    assert.deepEqual(missing, []);
  });
});
