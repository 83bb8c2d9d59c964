import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { envelopeJson, envelopeJsonFromStored } from '../../src/core/envelope.js';
import type { JsonObject } from '../../src/core/types.js';

describe('envelope', () => {
  it('built around the stored payload text, is byte for byte the serialized envelope', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string(),
        fc.string(),
        fc.integer({ min: 0, max: 8_000_000_000_000 }),
        fc.dictionary(fc.string(), fc.jsonValue()),
        (id, type, source, createdAt, payload) => {
          const stored = JSON.stringify(payload);
          const event = { id, type, source, created_at: createdAt, payload: JSON.parse(stored) as JsonObject };
          assert.equal(envelopeJsonFromStored(id, type, source, createdAt, stored), envelopeJson(event));
        },
      ),
    );
  });
});
