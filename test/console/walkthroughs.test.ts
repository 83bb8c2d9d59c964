/**
 * The README's two walkthroughs, one after the other, as a newcomer follows them: the curl one
 * subscribes `/receiver/demo` to `test.*` and gives the receiver that subscription's secret;
 * then the console's "Connect demo subscription" must reuse that subscription rather than add a
 * second one with another secret (which would deliver each event twice, one copy refused as
 * invalid_signature and dead-lettered). Also: the signature checker fills in the secret that
 * signed a request, and the receiver log's live notice follows its filter.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launch, openPage, receivedRow, sendEventForm, signIn, type WatchedPage } from './browser.js';
import { CONSOLE_API_KEY as API_KEY, type ConsoleServer, startConsoleServer } from './server.js';

interface Sub {
  id: string;
  url: string | null;
  secret: string;
}
interface Received {
  name: string;
  verdict: string;
  webhook_id: string | null;
}

describe('the curl walkthrough, then the console one', () => {
  let server: ConsoleServer;
  let browser: Browser;
  let watched: WatchedPage;
  let curlSub: Sub;

  before(async () => {
    server = await startConsoleServer();
    browser = await launch();
    watched = await openPage(browser);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('reuses the subscription the curl walkthrough made, and its event arrives once, verified', async () => {
    // README, step 2 of the curl walkthrough.
    curlSub = await server.api<Sub>('POST', '/subscriptions', { url: `${server.url}/receiver/demo`, event_types: ['test.*'] });
    await server.api('PUT', '/receivers/demo/secret', { secret: curlSub.secret });

    const { page } = watched;
    await signIn(page, server.url, API_KEY);
    await page.getByText('Live', { exact: true }).waitFor();
    await page.getByRole('link', { name: 'Receiver log' }).click();
    await page.getByRole('button', { name: 'Connect demo subscription' }).click();
    await page.getByText(`Receiver demo connected to subscription ${curlSub.id}`).waitFor();
    const info = page.locator('p', { hasText: 'Using subscription' });
    assert.match((await info.textContent()) ?? '', /already there, which delivers events of type test\.\* to/);

    const subs = await server.api<{ data: Sub[] }>('GET', '/subscriptions');
    assert.deepEqual(
      subs.data.filter((s) => s.url?.endsWith('/receiver/demo')).map((s) => s.id),
      [curlSub.id],
      'no second subscription to the receiver',
    );

    await page.getByRole('link', { name: 'Send event' }).click();
    const eventId = await sendEventForm(page);
    const row = await receivedRow(page, eventId);
    assert.equal(await row.getAttribute('data-verdict'), 'verified');
    const event = await server.api<{ deliveries: { subscription_id: string; status: string }[] }>('GET', `/events/${eventId}`);
    const pushed = event.deliveries.filter((d) => d.subscription_id !== 'default');
    assert.deepEqual(
      pushed.map((d) => [d.subscription_id, d.status]),
      [[curlSub.id, 'delivered']],
    );
    const log = await server.api<{ data: Received[] }>('GET', '/receivers/demo/requests');
    assert.deepEqual(
      log.data.map((r) => r.verdict),
      ['verified'],
      'delivered once',
    );

    // The checker is given the request and the secret that signed it.
    await row.getByRole('button', { name: 'Check HMAC' }).click();
    await page.getByText(`Filled in: the secret of subscription ${curlSub.id}`).waitFor();
    assert.equal(await page.getByLabel('Signing secret').inputValue(), curlSub.secret);
    await page.getByRole('button', { name: 'Check signature' }).click();
    await page.getByText('A signature matches.').waitFor();
  });

  it('lets the user choose when subscriptions with different secrets deliver to the receiver', async () => {
    const other = await server.api<Sub>('POST', '/subscriptions', {
      id: 'also-demo',
      url: `${server.url}/receiver/demo`,
      event_types: ['test.*'],
    });
    const { page } = watched;
    await page.getByRole('button', { name: 'Connect demo subscription' }).click();
    await page.getByText('2 active subscriptions already deliver to').waitFor();
    await page.getByText(/The receiver verifies with one secret/).waitFor();

    // Nothing changed until the user chooses: the curl subscription's copy is still verified.
    await server.api('POST', '/events', { type: 'test.choice', source: 'test', payload: {} });
    const count = async () => (await server.api<{ data: Received[] }>('GET', '/receivers/demo/requests')).data.length;
    for (let i = 0; i < 100 && (await count()) < 3; i++) await new Promise((r) => setTimeout(r, 100));
    const [newest, next] = (await server.api<{ data: Received[] }>('GET', '/receivers/demo/requests?limit=2')).data;
    assert.deepEqual([newest?.verdict, next?.verdict].sort(), ['invalid_signature', 'verified']);

    await page.getByRole('button', { name: `Verify with ${other.id}’s secret` }).click();
    await page.getByText(`Receiver demo connected to subscription ${other.id}`).waitFor();
    await page.getByText('Using subscription also-demo, already there').waitFor();
  });

  it('announces live only the requests its filter shows', async () => {
    const { page } = watched;
    await fetch(`${server.url}/receiver/other`, { method: 'POST', body: '{}' });
    await page.reload();
    await page.getByLabel('Receiver', { exact: true }).selectOption('demo');
    const notice = page.locator('p[role="status"]', { hasText: /Received on/ });
    await fetch(`${server.url}/receiver/demo`, { method: 'POST', body: '{}' });
    await notice.getByText('Received on demo: missing signature').waitFor();
    await fetch(`${server.url}/receiver/other`, { method: 'POST', body: '{}' });
    await page.waitForTimeout(1000);
    assert.equal(await notice.textContent(), 'Received on demo: missing signature');
    await page.getByLabel('Receiver', { exact: true }).selectOption('other');
    await page.waitForFunction(() => !document.querySelector('main')?.textContent?.includes('Received on demo'));
  });

  it('had no error in the browser console', () => {
    assert.deepEqual(watched.errors, []);
  });
});
