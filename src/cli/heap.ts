/**
 * Heap sizing for long-running processes (`serve`, `dispatch`).
 *
 * Under load most of what Triggers allocates lives for milliseconds (a request, its fsync wait, a
 * delivery), but some of it outlives a young-generation collection and is promoted. V8 then lets
 * the old generation grow to as much as four times what survived the last full collection before
 * it collects again: at 10,000 events/s that is about 70 MB of dead objects held resident between
 * full collections. Capping the growth at 1.5× keeps the peak about 60 MB lower for a few more
 * (incremental, millisecond) full collections a second.
 *
 * V8 reads this flag only when it recomputes its limits after a full collection, so setting it
 * at start-up is safe. A `--heap-growing-percent` given on the command line or in NODE_OPTIONS
 * wins.
 */
import { setFlagsFromString } from 'node:v8';

export const HEAP_GROWING_PERCENT = 50;

const FLAG = /^--heap[-_]growing[-_]percent\b/;

/** Applies the default unless the operator chose a value; returns whether it applied it. */
export function tuneHeap(execArgv: string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): boolean {
  const given = [...execArgv, ...nodeOptions.split(/\s+/)].some((arg) => FLAG.test(arg));
  if (given) return false;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}
