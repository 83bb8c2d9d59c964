import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tuneHeap } from '../../src/cli/heap.js';

describe('tuneHeap', () => {
  it('sets the heap growth cap when the operator chose none', () => {
    assert.equal(tuneHeap([], ''), true);
    assert.equal(tuneHeap(['--enable-source-maps'], '--max-semi-space-size=8'), true);
  });

  it('leaves an operator’s --heap-growing-percent alone, on the command line or in NODE_OPTIONS', () => {
    assert.equal(tuneHeap(['--heap-growing-percent=100'], ''), false);
    assert.equal(tuneHeap([], '--max-semi-space-size=8 --heap_growing_percent=200'), false);
  });
});
