/**
 * The dashboard's login and overview in real Chromium against a real two-node cluster: a wrong
 * token shows an error and no data; the right one opens the overview, which shows both nodes and
 * the same CPU total as `rayts status --json`; a session that ends under the page (a 401) and
 * logging out both return to the login form, and the API then refuses the browser.
 */
import { describe, expect, it } from 'vitest';
import { useCluster } from '../helpers/cluster.js';
import { tokenOf } from '../helpers/jobs.js';
import { logIn, openDashboard, useBrowser } from '../helpers/browser.js';

const newCluster = useCluster();
const browser = useBrowser();

describe('dashboard: login and overview', () => {
  it('a wrong token shows an error; the right one shows 2 nodes and the CPU total of rayts status; a 401 or logout returns to the login form', async () => {
    const cluster = newCluster();
    const head = await cluster.startHead({ numCpus: 2 });
    await cluster.startWorker(head, { name: 'w1', ip: '127.0.0.2', numCpus: 1 });
    const status = await cluster.waitForStatus(head.tempDir, (s) => s.nodes.active.length === 2);
    const ui = await openDashboard(browser(), head.dashboardUrl!);
    try {
      const { page } = ui;
      await page.getByLabel('Cluster token').fill('0'.repeat(64));
      await page.getByRole('button', { name: 'Log in' }).click();
      await expect.poll(() => page.getByRole('alert').textContent(), { timeout: 10_000 }).toContain('wrong cluster token');
      expect(await page.getByRole('navigation', { name: 'pages' }).count()).toBe(0);

      await logIn(page, tokenOf(head));
      await expect.poll(() => page.getByTestId('nodes-alive').textContent(), { timeout: 15_000 }).toBe('2');
      expect(status.usage.CPU!.total).toBe(3);
      await expect.poll(() => page.getByTestId('total-CPU').textContent(), { timeout: 15_000 }).toBe(String(status.usage.CPU!.total));
      // The session survives a reload (the cookie), and ends at logout.
      await page.reload();
      await page.getByTestId('nodes-alive').waitFor();
      // A session that ends under the page (the cookie gone): its next poll gets a 401 and the login form shows.
      await ui.context.clearCookies();
      await page.getByLabel('Cluster token').waitFor({ timeout: 15_000 });
      await logIn(page, tokenOf(head));
      await page.getByTestId('nodes-alive').waitFor();
      await page.getByRole('button', { name: 'Log out' }).click();
      await page.getByLabel('Cluster token').waitFor();
      const after = await page.evaluate(async () => (await fetch('/api/v0/nodes')).status);
      expect(after).toBe(401);
    } finally {
      await ui.close();
    }
  });
});
