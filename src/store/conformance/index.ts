/**
 * The Store conformance suite: one set of node:test cases that every backend runs unchanged.
 *
 *   runStoreConformance('sqlite', async (clock) => {
 *     const store = await openSqliteStore(freshPath(), { clock });
 *     return { store, cleanup: async () => rm(freshPath) };
 *   });
 *
 * `open` must return a fresh, empty, migrated store that reads time only from `clock`; the
 * suite closes the store after each test and then calls `cleanup`. Tests move the clock by hand,
 * so leases, retries and due times are checked without sleeping.
 */
import { describe } from 'node:test';
import { apiKeyTests } from './apiKeys.js';
import { deadLetterTests } from './deadLetters.js';
import { deliveryControlTests } from './deliveryControl.js';
import { eventTests } from './events.js';
import type { OpenStore } from './harness.js';
import { inboxTests } from './inbox.js';
import { leasingTests } from './leasing.js';
import { notificationTests } from './notifications.js';
import { propertyTests } from './properties.js';
import { receiverTests } from './receiver.js';
import { subscriptionTests } from './subscriptions.js';

export type { OpenStore } from './harness.js';
export { TestClock } from './harness.js';

export function runStoreConformance(name: string, open: OpenStore): void {
  describe(`Store conformance: ${name}`, () => {
    eventTests(open);
    subscriptionTests(open);
    inboxTests(open);
    leasingTests(open);
    deadLetterTests(open);
    notificationTests(open);
    propertyTests(open);
    receiverTests(open);
    apiKeyTests(open);
    deliveryControlTests(open);
  });
}
