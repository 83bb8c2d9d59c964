/**
 * Delivery control in the console: create a subscription with a rate limit, ordered delivery, a
 * custom header and a retry schedule through the Subscriptions form, check through the API that
 * they were stored, edit one, check again — with bad input refused inline before anything is sent,
 * and no error in the browser console.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launch, openPage, signIn, type WatchedPage } from './browser.js';
import { CONSOLE_API_KEY as API_KEY, type ConsoleServer, startConsoleServer } from './server.js';

interface Sub {
  id: string;
  rate_limit: number | null;
  max_concurrency: number | null;
  timeout: string | null;
  headers: Record<string, string>;
  retry_schedule: string | null;
  ordered: boolean;
}

describe('console: subscription delivery control (real browser, real server)', () => {
  let server: ConsoleServer;
  let browser: Browser;
  let watched: WatchedPage;

  before(async () => {
    server = await startConsoleServer({ TRIGGERS_ALLOW_PRIVATE_TARGETS: 'true' });
    browser = await launch();
    watched = await openPage(browser);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('creates a subscription with delivery control, shows it, and edits it', async () => {
    const { page } = watched;
    await signIn(page, server.url, API_KEY);
    // Signed in from the form: focus is on the view that replaced it, so Tab goes on from there.
    await page.waitForFunction(() => document.activeElement?.id === 'main');
    await page.getByRole('link', { name: 'Subscriptions' }).click();
    await page.getByRole('heading', { name: 'Subscriptions', level: 1 }).waitFor();

    const create = page.locator('form', { has: page.getByRole('button', { name: 'Create' }) });
    await create.getByLabel('Id', { exact: true }).fill('dc-sub');
    await create.getByLabel('URL', { exact: true }).fill('http://127.0.0.1:9/hooks');
    await create.getByLabel('Rate limit (per second)').fill('20');
    await create.getByLabel('Retry schedule').fill('1s,10s,1m');
    await create.getByLabel('Ordered').check();

    // A reserved header is refused inline; nothing is sent.
    const headers = create.getByLabel('Custom headers');
    await headers.fill('Content-Type: text/plain');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByText(/content-type cannot be set/).waitFor();
    assert.equal(await headers.getAttribute('aria-invalid'), 'true');
    const listed = await server.api<{ data: Sub[] }>('GET', '/subscriptions');
    assert.ok(!listed.data.some((s) => s.id === 'dc-sub'), 'nothing was created while the form was invalid');

    await headers.fill('X-Tenant: acme');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByText('Subscription dc-sub created').waitFor();

    const stored = await server.api<Sub>('GET', '/subscriptions/dc-sub');
    assert.equal(stored.rate_limit, 20);
    assert.equal(stored.ordered, true);
    assert.deepEqual(stored.headers, { 'x-tenant': 'acme' });
    assert.equal(stored.retry_schedule, '1s,10s,1m');
    assert.equal(stored.timeout, null);
    assert.equal(stored.max_concurrency, null);

    const summary = page.locator('[data-delivery="dc-sub"]');
    await summary.waitFor();
    assert.equal(await summary.textContent(), 'ordered · 20/s · retries 1s,10s,1m · header x-tenant');

    // Edit: the form is filled with what is stored; change the rate limit, add a timeout.
    await page.getByRole('button', { name: 'Edit dc-sub' }).click();
    const edit = page.getByRole('form', { name: 'Edit dc-sub' });
    const rate = edit.getByLabel('Rate limit (per second)');
    assert.equal(await rate.inputValue(), '20');
    assert.equal(await edit.getByLabel('Custom headers').inputValue(), 'x-tenant: acme');
    assert.equal(await edit.getByLabel('Ordered').isChecked(), true);
    await rate.fill('5');
    await edit.getByLabel('Timeout').fill('5s');
    await edit.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Subscription dc-sub saved').waitFor();

    const edited = await server.api<Sub>('GET', '/subscriptions/dc-sub');
    assert.equal(edited.rate_limit, 5);
    assert.equal(edited.timeout, '5s');
    assert.equal(edited.ordered, true);
    assert.deepEqual(edited.headers, { 'x-tenant': 'acme' });
    assert.equal(edited.retry_schedule, '1s,10s,1m');
    await page.getByText('ordered · 5/s · timeout 5s · retries 1s,10s,1m · header x-tenant').waitFor();
  });

  it('an open edit form keeps what was typed when another row is used, and Escape closes it', async () => {
    const { page } = watched;
    await page.getByRole('button', { name: 'Edit dc-sub' }).click();
    const edit = page.getByRole('form', { name: 'Edit dc-sub' });
    await edit.getByLabel('Description').fill('typed, not saved');
    await edit.getByLabel('Timeout').fill('7s');
    const reveal = page.getByRole('button', { name: 'Show secret default' });
    await reveal.click();
    await page.getByRole('button', { name: 'Hide secret default' }).waitFor();
    assert.equal(await edit.getByLabel('Description').inputValue(), 'typed, not saved');
    assert.equal(await edit.getByLabel('Timeout').inputValue(), '7s');
    assert.equal(
      await page.evaluate(() => document.activeElement?.getAttribute('aria-label')),
      'Hide secret default',
      'focus stays on the button pressed',
    );
    await edit.getByLabel('Description').press('Escape');
    await edit.waitFor({ state: 'detached' });
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Edit dc-sub');
    const stored = await server.api<{ description: string | null }>('GET', '/subscriptions/dc-sub');
    assert.equal(stored.description, null, 'nothing was saved');
  });

  it('had no error in the browser console', () => {
    assert.deepEqual(watched.errors, []);
  });
});
