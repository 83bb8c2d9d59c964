/**
 * The console end to end, as a user meets it: a whole Triggers process (as `triggers serve`
 * wires it) on a real SQLite file, a real headless Chromium, a real sink for the failing endpoint. Sign in, connect the demo receiver,
 * send an event from the editor, watch it delivered and verified in the receiver log, check the
 * HMAC by hand, see the dashboard move, dead-letter and replay a delivery — with no error in the
 * browser console along the way.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { type Sink, startSink } from '../support/sink.js';
import { launch, openPage, receivedRow, sendEventForm, signIn, type WatchedPage } from './browser.js';
import { CONSOLE_API_KEY as API_KEY, type ConsoleServer, startConsoleServer } from './server.js';

describe('console (real browser, real server)', () => {
  let server: ConsoleServer;
  let sink: Sink;
  let browser: Browser;
  let watched: WatchedPage;

  before(async () => {
    sink = await startSink();
    sink.respond('/bad', { status: 400, body: 'no thanks' });
    // One after the other, so a browser that fails to launch still leaves `server` for after() to stop.
    server = await startConsoleServer({ TRIGGERS_ALLOW_PRIVATE_TARGETS: 'true', TRIGGERS_RETRY_SCHEDULE: '1s' });
    browser = await launch();
    watched = await openPage(browser);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await sink?.close();
  });

  it('shows nothing without the key, and refuses a wrong one', async () => {
    // Its own page: the browser logs the 401 of the wrong key, which is the point here.
    const { page, errors } = await openPage(browser);
    await page.goto(`${server.url}/`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    // Where to find the key, under the name it has in that file.
    await page.getByText('saved in data/secrets.json as zapier_api_key').waitFor();
    assert.equal(await page.getByRole('navigation', { name: 'Console sections' }).isVisible(), false);
    await page.getByLabel('API key').fill('wrong-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That API key is not right.').waitFor();
    assert.equal(await page.getByLabel('API key').getAttribute('aria-invalid'), 'true');
    assert.deepEqual(errors, [
      'console.error: Failed to load resource: the server responded with a status of 401 (Unauthorized)',
    ]);
    await page.context().close();
  });

  it('signs in, connects the demo receiver, sends an event and sees it delivered and verified live', async () => {
    const { page } = watched;
    await signIn(page, server.url, API_KEY);
    await page.getByText('Live', { exact: true }).waitFor();

    await page.getByRole('link', { name: 'Receiver log' }).click();
    await page.getByRole('button', { name: 'Connect demo subscription' }).click();
    await page.getByText('Demo subscription connected').waitFor();

    // The editor refuses bad JSON and non-objects inline, before anything is sent.
    await page.getByRole('link', { name: 'Send event' }).click();
    const payload = page.getByLabel('Payload (JSON object)');
    await payload.fill('{"order": 1,');
    await page.getByRole('button', { name: 'Send event' }).click();
    await page.getByText(/Not valid JSON/).waitFor();
    assert.equal(await payload.getAttribute('aria-invalid'), 'true');
    await payload.fill('[1, 2]');
    await page.getByRole('button', { name: 'Send event' }).click();
    await page.getByText('The payload must be a JSON object ({…}), not an array.').waitFor();
    await page.getByLabel('Type', { exact: true }).fill('bad type!');
    await page.getByRole('button', { name: 'Send event' }).click();
    await page.getByText(/Use dot-separated words/).waitFor();
    const before = await server.api<{ data: unknown[] }>('GET', '/events');
    assert.equal(before.data.length, 0, 'nothing was sent while the form was invalid');

    await page.getByLabel('Type', { exact: true }).fill('console.test');
    await payload.fill('{"message": "hello from the browser", "n": 1}');
    const eventId = await sendEventForm(page);

    // Delivered to the built-in receiver, signed, and verified — appearing without a reload.
    const row = await receivedRow(page, eventId);
    assert.equal(await row.getAttribute('data-verdict'), 'verified');

    // The HMAC checker agrees, given the subscription's secret.
    const sub = await server.api<{ secret: string }>('GET', '/subscriptions/receiver-demo');
    await row.getByRole('button', { name: 'Check HMAC' }).click();
    await page.getByLabel('Signing secret').fill(sub.secret);
    await page.getByRole('button', { name: 'Check signature' }).click();
    await page.getByText('A signature matches.').waitFor();

    // The event's page shows the delivery and its attempt.
    await page.getByRole('link', { name: 'Events' }).first().click();
    await page.getByRole('link', { name: eventId }).click();
    await page.getByRole('heading', { name: /Deliveries/ }).waitFor();
    await page.getByRole('table', { name: 'Attempts to receiver-demo' }).waitFor();
  });

  it('a long body that arrived live is inspected and checked whole, not as its live preview', async () => {
    const { page } = watched;
    await page.getByRole('link', { name: 'Receiver log' }).click();
    await page.getByRole('heading', { name: 'Requests' }).waitFor();
    // Sent while the log is open, so its row comes from the live feed (which previews 4 KiB).
    const long = 'x'.repeat(6_000);
    const sent = await server.api<{ id: string }>('POST', '/events', {
      type: 'console.test',
      source: 'test',
      payload: { long },
    });
    const row = page.locator('tr[data-verdict]', { hasText: sent.id });
    await row.waitFor({ timeout: 10_000 });
    await row.getByRole('button', { name: 'Inspect' }).click();
    const body = page.getByLabel('Body', { exact: true }).first();
    await page.waitForFunction((length) => {
      const blocks = [...document.querySelectorAll('pre[aria-label="Body"]')];
      return blocks.some((block) => (block.textContent ?? '').length > length);
    }, long.length);
    assert.ok(await body.isVisible());
    const sub = await server.api<{ secret: string }>('GET', '/subscriptions/receiver-demo');
    await row.getByRole('button', { name: 'Check HMAC' }).click();
    // The whole request is fetched first: wait until the checker holds all of it.
    await page.waitForFunction((length) => {
      const body = document.querySelector('textarea[name="body"]');
      return body instanceof HTMLTextAreaElement && body.value.length > length;
    }, long.length);
    await page.getByLabel('Signing secret').fill(sub.secret);
    await page.getByRole('button', { name: 'Check signature' }).click();
    await page.getByText('A signature matches.').waitFor();
  });

  it("an event's way back keeps the list's filters", async () => {
    const { page } = watched;
    await page.goto(`${server.url}/#/events?type=console.test`);
    await page.getByRole('heading', { name: 'Events', level: 1 }).waitFor();
    await page.getByRole('link', { name: /^evt_/ }).first().click();
    await page.getByRole('heading', { name: /^Event / }).waitFor();
    await page.getByRole('link', { name: '← Events' }).click();
    await page.getByRole('heading', { name: 'Events', level: 1 }).waitFor();
    assert.match(new URL(page.url()).hash, /type=console\.test/);
    assert.equal(await page.getByLabel('Type', { exact: true }).inputValue(), 'console.test');
  });

  it('dashboard numbers move live', async () => {
    const { page } = watched;
    await page.getByRole('link', { name: 'Dashboard' }).click();
    const tile = (label: string) => page.locator('.tile', { hasText: label }).locator('.value');
    await page.waitForFunction(() => document.querySelectorAll('.tile').length > 0);
    // The dashboard first shows the last second's sample, which may predate the delivery settling;
    // the next live sample must count it.
    await page.waitForFunction(
      () => {
        const tiles = [...document.querySelectorAll('.tile')];
        const tile = tiles.find((t) => t.textContent?.includes('Delivered (since start)'));
        return Number(tile?.querySelector('.value')?.textContent?.replace(/\D/g, '')) >= 1;
      },
      undefined,
      { timeout: 5000 },
    );
    const delivered = Number((await tile('Delivered (since start)').textContent())?.replace(/\D/g, ''));
    assert.ok(delivered >= 1, `delivered ${delivered}`);
    const eventsBefore = Number((await tile('Events stored').textContent())?.replace(/\D/g, ''));
    await server.api('POST', '/events', { type: 'console.more', source: 'test', payload: { n: 2 } });
    await page.waitForFunction(
      (n) => Number(document.querySelector('.tile .value')?.textContent?.replace(/\D/g, '')) > n,
      eventsBefore,
      { timeout: 5000 },
    );
    assert.equal(await page.locator('figure.chart canvas').count(), 5, 'five live charts');
  });

  it('dead-letters a delivery to an endpoint answering 400 and replays it', async () => {
    const { page } = watched;
    await page.getByRole('link', { name: 'Subscriptions' }).click();
    await page.getByLabel('Id', { exact: true }).fill('bad-sink');
    await page.getByLabel('URL', { exact: true }).fill(`${sink.url}/bad`);
    await page.getByLabel('Event types').fill('bad.*');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByText('Subscription bad-sink created').waitFor();

    await server.api('POST', '/events', { type: 'bad.thing', source: 'test', payload: { n: 3 } });
    await sink.waitFor(1, { path: '/bad', timeoutMs: 10_000 });
    // Health shows up live on the subscriptions page.
    await page.locator('tr', { hasText: 'bad-sink' }).getByText('HTTP 400').waitFor({ timeout: 5000 });

    await page.getByRole('link', { name: 'Dead letters' }).click();
    const replay = page.getByRole('button', { name: /^Replay evt_.* to bad-sink$/ });
    await replay.waitFor();
    await replay.click();
    await page.getByText(/Replayed evt_.* to bad-sink/).waitFor();
    await sink.waitFor(2, { path: '/bad', timeoutMs: 10_000 });

    // …and again in bulk, by filter.
    await page
      .getByText('No dead letters match.')
      .or(page.getByRole('button', { name: /^Replay evt_/ }))
      .first()
      .waitFor();
    await page.getByRole('button', { name: /^Replay evt_.* to bad-sink$/ }).waitFor({ timeout: 10_000 });
    await page.getByLabel('Subscription').selectOption('bad-sink');
    await page.getByRole('button', { name: 'Replay all matching' }).click();
    await page.getByText('Replayed 1 dead letter').waitFor();
    await sink.waitFor(3, { path: '/bad', timeoutMs: 10_000 });
  });

  it('a key revoked while signed in signs the console out with a notice', async () => {
    // Its own page: the refused token and stream requests log 401s, which are the point here.
    const { page } = await openPage(browser);
    const created = await server.api<{ id: string; key: string }>('POST', '/keys', {
      name: 'console-revoked',
      scopes: ['admin'],
    });
    await signIn(page, server.url, created.key);
    await server.api('DELETE', `/keys/${created.id}`);
    const notice = page.getByText(/no longer accepts this API key/);
    // Revocation reaches every cache within seconds; each view change asks the server again.
    for (let i = 0; i < 40 && !(await notice.isVisible()); i++) {
      await page
        .getByRole('link', { name: 'Events' })
        .click({ timeout: 500 })
        .catch(() => undefined);
      await page.waitForTimeout(500);
    }
    await notice.waitFor({ timeout: 1_000 });
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.context().close();
  });

  it('had no error in the browser console', () => {
    assert.deepEqual(watched.errors, []);
  });
});
