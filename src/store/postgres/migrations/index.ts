/**
 * The numbered migrations, in order. Append a new entry for every schema change; never edit or
 * renumber one that has landed (databases in the field have already applied it). Each runs in
 * its own transaction. They are TypeScript modules exporting SQL so `tsc` carries them into dist/.
 */
import { sql as initial } from './001_initial.js';
import { sql as receiver } from './002_receiver.js';
import { sql as counters } from './003_counters.js';
import { sql as apiKeys } from './004_api_keys.js';
import { sql as deliveryControl } from './005_delivery_control.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  { version: 1, name: '001_initial', sql: initial },
  { version: 2, name: '002_receiver', sql: receiver },
  { version: 3, name: '003_counters', sql: counters },
  { version: 4, name: '004_api_keys', sql: apiKeys },
  { version: 5, name: '005_delivery_control', sql: deliveryControl },
];
