/**
 * Headless Chromium for console tests (Debian's `chromium`, driven by playwright-core), with
 * every browser-console error and page error collected so a test can assert there were none.
 */
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';

export const CHROMIUM = process.env.TRIGGERS_CHROMIUM ?? '/usr/bin/chromium';

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface WatchedPage {
  page: Page;
  /** Console errors and uncaught exceptions seen so far. */
  errors: string[];
}

export async function openPage(browser: Browser, options: { width?: number; height?: number } = {}): Promise<WatchedPage> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 900 },
    acceptDownloads: true,
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') errors.push(`console.${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('dialog', (dialog) => void dialog.accept());
  return { page, errors };
}

/** Signs in through the form and waits for the dashboard. */
export async function signIn(page: Page, url: string, apiKey: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.getByLabel('API key').fill(apiKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
}

/** Clicks Send event on the form as it stands; the new event's id, from the confirmation. */
export async function sendEventForm(page: Page): Promise<string> {
  await page.getByRole('button', { name: 'Send event' }).click();
  const sent = page.getByRole('status').getByRole('link', { name: /^evt_/ });
  await sent.waitFor();
  return (await sent.textContent()) as string;
}

/** Opens the receiver log and waits until the event's request appears in it; its row. */
export async function receivedRow(page: Page, eventId: string): Promise<Locator> {
  await page.getByRole('link', { name: 'Receiver log' }).click();
  const row = page.locator('tr[data-verdict]', { hasText: eventId });
  await row.waitFor({ timeout: 10_000 });
  return row;
}
