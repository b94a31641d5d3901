/**
 * The dashboard in Debian's Chromium, driven by playwright-core (never a downloaded browser): one
 * browser per test file (`useBrowser()` launches it in beforeAll and closes it in afterAll, even
 * after a failure), pages that collect console errors and page errors, the login form, and
 * screenshots under test-artifacts/screenshots/ (a CI artifact).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ROOT } from './cluster.js';

export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = join(ROOT, 'test-artifacts', 'screenshots');
export const LAPTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/** Launches Chromium once for the file; the getter returns it inside tests. */
export function useBrowser(): () => Browser {
  let browser: Browser | undefined;
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`the browser tests need Debian's Chromium at ${CHROMIUM}: apt-get install chromium (they never download a browser)`);
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
  });
  return () => {
    if (!browser) throw new Error('the browser did not start (see beforeAll)');
    return browser;
  };
}

export interface DashboardPage {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught page errors seen so far. */
  errors: string[];
  close(): Promise<void>;
}

/** A new context (own cookies) and page at the dashboard's URL, collecting console errors. */
export async function openDashboard(browser: Browser, url: string, viewport = LAPTOP): Promise<DashboardPage> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()} (${m.location().url})`); });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  await page.goto(url);
  return { context, page, errors, close: () => context.close() };
}

/** Fills the login form and waits for the navigation bar (a session). */
export async function logIn(page: Page, token: string): Promise<void> {
  await page.getByLabel('Cluster token').fill(token);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('navigation', { name: 'pages' }).waitFor();
}

/** Screenshot of the whole page into test-artifacts/screenshots/<name>-<width>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}-${page.viewportSize()!.width}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
