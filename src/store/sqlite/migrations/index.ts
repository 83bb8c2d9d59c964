/**
 * The numbered migrations, in order. Append a new entry for every schema change; never edit or
 * renumber one that has landed (databases in the field have already applied it).
 * They are TypeScript modules exporting SQL so that `tsc` carries them into dist/ unchanged.
 */
import { sql as initial } from './001_initial.js';
import { sql as receiver } from './002_receiver.js';
import { sql as apiKeys } from './003_api_keys.js';
import { sql as deliveryControl } from './004_delivery_control.js';
import { sql as countedStatusChanges } from './005_counted_status_changes.js';
import { sql as deliveryEventTime } from './006_delivery_event_time.js';
import { sql as deliveryIdsNeverReused } from './007_delivery_ids_never_reused.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  { version: 1, name: '001_initial', sql: initial },
  { version: 2, name: '002_receiver', sql: receiver },
  { version: 3, name: '003_api_keys', sql: apiKeys },
  { version: 4, name: '004_delivery_control', sql: deliveryControl },
  { version: 5, name: '005_counted_status_changes', sql: countedStatusChanges },
  { version: 6, name: '006_delivery_event_time', sql: deliveryEventTime },
  { version: 7, name: '007_delivery_ids_never_reused', sql: deliveryIdsNeverReused },
];
