/**
 * The console on a phone (375 × 740): no view is wider than the screen — long ids wrap, wide
 * tables scroll inside their own box — and the header stays one compact row, leaving the screen
 * to the page.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launch, openPage, signIn, type WatchedPage } from './browser.js';
import { CONSOLE_API_KEY as API_KEY, type ConsoleServer, startConsoleServer } from './server.js';

const WIDTH = 375;

/** How much wider than the viewport the page is (0 when it fits). */
const overflow = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

describe('console on a 375 px screen', () => {
  let server: ConsoleServer;
  let browser: Browser;
  let watched: WatchedPage;
  let eventId: string;

  before(async () => {
    server = await startConsoleServer();
    browser = await launch();
    watched = await openPage(browser, { width: WIDTH, height: 740 });
    // A delivered push (its attempt has a response) and a pending inbox delivery.
    await server.api('POST', '/subscriptions', { id: 'to-receiver', url: `${server.url}/receiver/demo`, event_types: ['*'] });
    ({ id: eventId } = await server.api<{ id: string }>('POST', '/events', { type: 'narrow.test', source: 'test', payload: {} }));
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('keeps the header to one short row', async () => {
    const { page } = watched;
    await signIn(page, server.url, API_KEY);
    const header = await page.locator('header.top').boundingBox();
    assert.ok(header && header.height <= 64, `header is ${header?.height} px tall`);
    assert.equal(await overflow(page), 0);
    // Every section stays reachable: the nav scrolls sideways.
    await page.getByRole('link', { name: 'Receiver log' }).click();
    await page.getByRole('heading', { name: 'Receiver log', level: 1 }).waitFor();
    const current = await page.getByRole('link', { name: 'Receiver log' }).boundingBox();
    assert.ok(current && current.x >= 0 && current.x + current.width <= WIDTH, 'the current section is in sight in the nav');
  });

  it('fits the event page: the id wraps, the attempts table scrolls in its box', async () => {
    const { page } = watched;
    await page.goto(`${server.url}/#/events/${eventId}`);
    const table = page.getByRole('table', { name: 'Attempts to to-receiver' });
    await table.waitFor({ timeout: 10_000 });
    assert.equal(await overflow(page), 0, 'the page is no wider than the screen');
    const heading = await page.getByRole('heading', { level: 1 }).boundingBox();
    assert.ok(heading && heading.x + heading.width <= WIDTH, 'the event id wraps inside the screen');
    const response = await table.locator('td code').boundingBox();
    assert.ok(response && response.width >= 180, `the response is readable, not squeezed (${response?.width} px)`);
    // Reachable by scrolling the table's own box.
    await table.getByRole('columnheader', { name: 'Response' }).scrollIntoViewIfNeeded();
    const after = await table.getByRole('columnheader', { name: 'Response' }).boundingBox();
    assert.ok(after && after.x + after.width <= WIDTH + 1, 'scrolled into view');
  });

  it('fits every view', async () => {
    const { page } = watched;
    for (const view of ['dashboard', 'events', 'send', 'subscriptions', 'dead-letters', 'receiver']) {
      await page.goto(`${server.url}/#/${view}`);
      await page.locator('main h1').waitFor();
      await page.waitForFunction(() => !document.querySelector('main')?.textContent?.includes('Loading…'));
      assert.equal(await overflow(page), 0, `#/${view} is no wider than the screen`);
    }
  });

  it('had no error in the browser console', () => {
    assert.deepEqual(watched.errors, []);
  });
});
