/**
 * Small things a user sees: fields in a row line up on their tops whatever is under each
 * (a hint, an error); a checkbox sits under its label; times are written as dates, not ISO
 * strings; a target URL breaks after a `/`, not inside its port; the latency chart shows its
 * latest values, not a legend of "--", under a title on one line.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Locator } from 'playwright-core';
import { launch, openPage, signIn, type WatchedPage } from './browser.js';
import { CONSOLE_API_KEY as API_KEY, type ConsoleServer, startConsoleServer } from './server.js';

const top = async (locator: Locator) => (await locator.boundingBox())?.y;

describe('console layout details', () => {
  let server: ConsoleServer;
  let browser: Browser;
  let watched: WatchedPage;

  before(async () => {
    server = await startConsoleServer({ TRIGGERS_ALLOW_PRIVATE_TARGETS: 'true' });
    browser = await launch();
    watched = await openPage(browser);
    await signIn(watched.page, server.url, API_KEY);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('keeps Source in place when Type shows an error', async () => {
    const { page } = watched;
    await page.getByRole('link', { name: 'Send event' }).click();
    const type = page.getByLabel('Type', { exact: true });
    const source = page.getByLabel('Source', { exact: true });
    const before = await top(source);
    assert.equal(await top(type), before, 'Type and Source start on one line');
    await type.fill('bad type!');
    await page.getByRole('button', { name: 'Send event' }).click();
    await page.getByText(/Use dot-separated words/).waitFor();
    assert.equal(await top(source), before, 'the error under Type does not move Source');
  });

  it('lines up fields with and without a hint, and puts the Ordered checkbox under its label', async () => {
    const { page } = watched;
    await page.getByRole('link', { name: 'Subscriptions' }).click();
    const form = page.locator('form', { has: page.getByRole('button', { name: 'Create' }) });
    assert.equal(await top(form.getByLabel('Description')), await top(form.getByLabel('Id', { exact: true })));
    const box = await form.getByLabel('Ordered').boundingBox();
    const label = await form.getByText('Ordered', { exact: true }).boundingBox();
    assert.ok(box && label && Math.abs(box.x - label.x) < 8, `checkbox at x=${box?.x}, its label at x=${label?.x}`);
  });

  it('writes a rotated secret’s end as a date, and breaks a URL after a slash', async () => {
    const { page } = watched;
    const url = `${server.url}/receiver/console/layout/test/with/many/parts?and=a&query=string`;
    await server.api('POST', '/subscriptions', { id: 'rotated', url, event_types: ['*'] });
    await server.api('POST', '/subscriptions/rotated/rotate-secret', {});
    await page.reload();
    await page.getByRole('button', { name: 'Show secret rotated' }).click();
    const until = page.getByText(/Previous secret still signing until/);
    await until.waitFor();
    assert.doesNotMatch((await until.textContent()) ?? '', /\d{4}-\d\d-\d\dT/, 'no raw ISO time');

    // Every line but the last ends just after a separator.
    const lines = await page.locator('code.url', { hasText: 'layout/test' }).evaluate((code) => {
      const text = code.textContent ?? '';
      const range = document.createRange();
      const out: string[] = [];
      let line = '';
      let lastTop: number | null = null;
      let offset = 0;
      for (const node of code.childNodes) {
        if (node.nodeType !== Node.TEXT_NODE) continue;
        for (let i = 0; i < (node.textContent ?? '').length; i++, offset++) {
          range.setStart(node, i);
          range.setEnd(node, i + 1);
          const y = range.getBoundingClientRect().top;
          if (lastTop !== null && Math.abs(y - lastTop) > 2) {
            out.push(line);
            line = '';
          }
          lastTop = y;
          line += text[offset];
        }
      }
      out.push(line);
      return out;
    });
    assert.ok(lines.length > 1, `the URL wraps at this width: ${JSON.stringify(lines)}`);
    for (const line of lines.slice(0, -1)) assert.match(line, /[/?&]$/, `broken after a separator: ${JSON.stringify(lines)}`);
  });

  it('shows the latency chart’s latest values in its caption, with no "--" legend', async () => {
    const { page } = watched;
    await page.getByRole('link', { name: 'Dashboard' }).click();
    const chart = page.locator('figure.chart', { hasText: 'Delivery latency' });
    await chart.locator('canvas').waitFor();
    assert.doesNotMatch((await chart.locator('.u-legend').textContent()) ?? '', /--|Time/);
    await chart.getByText(/p50 .* · p95 .* · p99 /).waitFor({ timeout: 5000 });
    const title = await chart.getByText('Delivery latency', { exact: true }).boundingBox();
    assert.ok(title && title.height < 30, `the title is one line (${title?.height} px)`);
  });

  it('had no error in the browser console', () => {
    assert.deepEqual(watched.errors, []);
  });
});
