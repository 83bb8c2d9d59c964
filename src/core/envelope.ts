/**
 * The event envelope: what a webhook's body and an inbox item carry —
 * `{ id, type, source, created_at (ISO 8601), payload }`, in that order.
 *
 * `envelope` is that object (the API serializes it with its schema), `envelopeJson` its JSON
 * text (a webhook's body); `envelopeJsonFromStored` builds the same text around a
 * payload that is already JSON text (as a store keeps it), so a claim can be delivered without
 * parsing the payload and serializing it again. Given the text `JSON.stringify(payload)`, the two
 * are byte for byte the same.
 */
import type { EpochMs, Event } from './types.js';

let lastMs = Number.NaN;
let lastIso = '';
/** ISO 8601 of an epoch-ms time; the last one is kept, as a busy ingest or a batch's deliveries format the same millisecond many times. */
export const iso = (ms: EpochMs): string => {
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
};

export const envelope = (event: Event) => ({
  id: event.id,
  type: event.type,
  source: event.source,
  created_at: iso(event.created_at),
  payload: event.payload,
});

export const envelopeJson = (event: Event): string => JSON.stringify(envelope(event));

export const envelopeJsonFromStored = (
  id: string,
  type: string,
  source: string,
  createdAt: EpochMs,
  payloadJson: string,
): string =>
  `{"id":${JSON.stringify(id)},"type":${JSON.stringify(type)},"source":${JSON.stringify(source)},"created_at":"${iso(createdAt)}","payload":${payloadJson}}`;
