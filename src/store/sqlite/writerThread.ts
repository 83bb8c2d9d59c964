/**
 * The writer thread (see threadWriter.ts): its own connection to the database file and a
 * LocalWriter on it. Takes batches of writes, answers each once committed (and fsync'd when
 * durable), one message per batch of answers.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from './connection.js';
import type { FromWriter, ResultMessage, ToWriter } from './threadWriter.js';
import { toPlainError } from './threadWriter.js';
import { LocalWriter } from './writer.js';

const port = parentPort;
if (port === null) throw new Error('writerThread runs as a worker thread');

const db = openDatabase((workerData as { path: string }).path);
let results: ResultMessage[] = [];
let notify: string[][] = [];
let scheduled = false;

function flush(): void {
  scheduled = false;
  if (results.length === 0 && notify.length === 0) return;
  port?.postMessage({ type: 'results', results, notify } satisfies FromWriter);
  results = [];
  notify = [];
}

/** After every promise reaction of this turn has run, so a commit's answers leave together. */
function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(flush);
}

const writer = new LocalWriter(db, Date.now, (ids) => {
  notify.push(ids);
  schedule();
});

port.on('message', (message: ToWriter) => {
  if (message.type === 'jobs') {
    for (const [id, verb, args, durable, now] of message.jobs) {
      writer.write(verb, args as never, { durable, now }).then(
        (value) => {
          results.push([id, true, value]);
          schedule();
        },
        (error: unknown) => {
          results.push([id, false, toPlainError(error)]);
          schedule();
        },
      );
    }
    return;
  }
  void writer.close().then(() => {
    db.close();
    flush();
    port.postMessage({ type: 'closed' } satisfies FromWriter);
  });
});
