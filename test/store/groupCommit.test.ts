/**
 * The SQLite group commit's scheduling, with the disk sync under the test's control: while an
 * fsync runs, durable writes keep collecting and then commit together; claims (answered at
 * COMMIT) never wait for a sync; nothing queued is lost on close.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { GroupCommit, type Tx } from '../../src/store/sqlite/groupCommit.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** `maxHoldMs`: how long a running sync holds writes (long by default, so timing never decides a test). */
function harness(maxHoldMs = 60_000) {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE log (n INTEGER)');
  const syncs: ((error: Error | null) => void)[] = [];
  const woken: string[][] = [];
  const writer = new GroupCommit(
    db,
    () => 0,
    (ids) => woken.push(ids),
    () => {},
    () => {},
    (done) => syncs.push(done),
    1024,
    maxHoldMs,
  );
  const write = (n: number, options: { durable?: boolean } = {}) =>
    writer.submit((tx: Tx) => {
      tx.db.prepare('INSERT INTO log (n) VALUES (?)').run(n);
      tx.notify([`sub-${n}`]);
      return tx.batch;
    }, options);
  const rows = () => (db.prepare('SELECT n FROM log ORDER BY n').all() as { n: number }[]).map((row) => row.n);
  return { writer, write, rows, syncs, woken };
}

describe('group commit', () => {
  it('holds durable writes while a sync runs, then commits them in one transaction', async () => {
    const { write, rows, syncs } = harness();
    const first = write(1);
    await tick();
    assert.equal(syncs.length, 1, 'the first write committed and asked for a sync');
    let answered = 0;
    const held = [write(2), write(3)];
    await tick();
    const more = write(4);
    await tick();
    for (const promise of [...held, more]) void promise.then(() => answered++);
    assert.deepEqual(rows(), [1], 'nothing is committed while the sync runs');
    assert.equal(syncs.length, 1);

    (syncs.shift() as (error: Error | null) => void)(null);
    const firstBatch = await first;
    await tick();
    assert.deepEqual(rows(), [1, 2, 3, 4], 'the held writes commit once the sync returns');
    assert.equal(syncs.length, 1, 'and share one sync');
    assert.equal(answered, 0, 'they are answered only after their own sync');

    (syncs.shift() as (error: Error | null) => void)(null);
    const batches = await Promise.all([...held, more]);
    assert.equal(new Set(batches).size, 1, 'one transaction for all three');
    assert.notEqual(batches[0], firstBatch);
  });

  it('commits a claim at once, sync or not, taking held writes along', async () => {
    const { write, rows, syncs } = harness();
    void write(1);
    await tick();
    const held = write(2);
    await tick();
    assert.deepEqual(rows(), [1]);

    const claim = write(3, { durable: false });
    const claimBatch = await claim;
    assert.deepEqual(rows(), [1, 2, 3], 'the claim did not wait for the running sync');
    assert.equal(syncs.length, 2, 'the held write rode along and asked for its sync');

    for (const done of syncs.splice(0)) done(null);
    assert.equal(await held, claimBatch);
  });

  it('wakes dispatchers at COMMIT, and answers the writer only once the sync returns', async () => {
    const { write, syncs, woken } = harness();
    let answered = false;
    const first = write(1).then(() => {
      answered = true;
    });
    await tick();
    assert.deepEqual(woken, [['sub-1']], 'the new delivery is claimable while the disk syncs');
    assert.equal(answered, false, 'the 201 waits for the disk');
    (syncs.shift() as (error: Error | null) => void)(null);
    await first;
    assert.equal(answered, true);
  });

  it('stops holding writes for a sync that runs past its hold time (a stalled disk)', async () => {
    const holdMs = 20;
    const { write, rows, syncs, woken } = harness(holdMs);
    void write(1);
    await tick();
    const held = write(2);
    await tick();
    await new Promise((resolve) => setTimeout(resolve, holdMs + 10));
    assert.deepEqual(rows(), [1, 2], 'committed without waiting for the stalled sync');
    assert.deepEqual(woken, [['sub-1'], ['sub-2']], 'and its dispatcher woken');
    const late = write(3);
    await tick();
    assert.deepEqual(rows(), [1, 2, 3], 'while the sync stays stalled, writes commit at once');
    let answered = 0;
    for (const promise of [held, late]) void promise.then(() => answered++);
    await tick();
    assert.equal(answered, 0, 'none answered before the disk has it');
    for (const done of syncs.splice(0)) done(null);
    await Promise.all([held, late]);
  });

  it('commits held writes on close', async () => {
    const { writer, write, rows, syncs } = harness();
    void write(1);
    await tick();
    const held = write(2);
    await tick();
    writer.close();
    assert.deepEqual(rows(), [1, 2]);
    for (const done of syncs.splice(0)) done(null);
    await held;
  });

  it('answers a failed sync with an error for every write it covered, and recovers', async () => {
    const { write, syncs } = harness();
    const first = write(1);
    await tick();
    const held = write(2);
    await tick();
    (syncs.shift() as (error: Error | null) => void)(new Error('EIO'));
    await assert.rejects(first, /could not sync to disk/);
    await tick();
    (syncs.shift() as (error: Error | null) => void)(null);
    assert.equal(typeof (await held), 'number');
  });
});
