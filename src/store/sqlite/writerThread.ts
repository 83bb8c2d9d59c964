/**
 * The writer thread (see threadWriter.ts): its own connection to the database file and a
 * LocalWriter on it. Takes batches of writes, answers each once committed (and fsync'd when
 * durable), one message per batch of answers.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from './connection.js';
import { decode, encode, type ResultMessage, type ToWriter, toPlainError } from './threadWriter.js';
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
  let text: string;
  try {
    text = encode({ type: 'results', results, notify });
  } catch (error) {
    // A result that cannot be encoded fails its write rather than the thread.
    const failure = toPlainError(error);
    text = encode({ type: 'results', results: results.map(([id]): ResultMessage => [id, false, failure]), notify });
  }
  port?.postMessage(text);
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

port.on('message', (text: string) => {
  const message = decode<ToWriter>(text);
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
    port.postMessage(encode({ type: 'closed' }));
  });
});
