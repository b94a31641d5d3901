/**
 * The dashboard's Jobs pages in real Chromium: a job submitted with `rayts job submit --no-wait`
 * appears on the open Jobs page without a reload; its page tails the driver's log while it runs;
 * the Stop button stops it and its status turns STOPPED (on the page and in the API).
 */
import { describe, expect, it } from 'vitest';
import { useCluster } from '../helpers/cluster.js';
import { copyJobFixture, jobOf, tokenOf } from '../helpers/jobs.js';
import { logIn, openDashboard, useBrowser } from '../helpers/browser.js';

const newCluster = useCluster();
const browser = useBrowser();

const tickCount = (text: string | null) => (text ?? '').split('\n').filter((l) => /^tick \d+$/.test(l)).length;

describe('dashboard: jobs', () => {
  it('a CLI-submitted job appears without a reload, its log tail grows while it runs, and Stop turns it STOPPED', async () => {
    const cluster = newCluster({ RAYTS_JOB_STOP_GRACE_MS: '2000' });
    const head = await cluster.startHead({ numCpus: 2 });
    copyJobFixture(cluster, 'ticker');
    const ui = await openDashboard(browser(), head.dashboardUrl!);
    try {
      const { page } = ui;
      await logIn(page, tokenOf(head));
      await page.getByRole('link', { name: 'Jobs' }).click();
      await page.getByText('No jobs yet').waitFor();
      // A mark in the page's window: it survives only if the page is never reloaded.
      await page.evaluate(() => { (window as unknown as { mark: string }).mark = 'same page'; });

      const submit = await cluster.rayts(['job', 'submit', `--address=${head.dashboardUrl}`, '--no-wait', '--working-dir', './ticker',
        '--submission-id', 'ticker-1', '--', 'node', 'main.mjs']);
      expect(submit.code, submit.stderr).toBe(0);
      const submitted = performance.now();
      const link = page.getByRole('link', { name: 'job ticker-1' });
      await link.waitFor({ timeout: 15_000 });
      // A figure for the closing notes (the page polls every second), not a timed assertion.
      console.log(`job ticker-1 on the open Jobs page ${Math.round(performance.now() - submitted)} ms after \`rayts job submit\` returned`);
      expect(await page.evaluate(() => (window as unknown as { mark?: string }).mark)).toBe('same page');
      await expect.poll(() => page.getByTestId('job-status-ticker-1').textContent(), { timeout: 30_000 }).toBe('RUNNING');

      await link.click();
      const log = page.getByRole('log', { name: 'driver log' });
      await expect.poll(async () => tickCount(await log.textContent()), { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
      const seen = tickCount(await log.textContent());
      await expect.poll(async () => tickCount(await log.textContent()), { timeout: 30_000 }).toBeGreaterThan(seen);

      await page.getByRole('button', { name: 'Stop job' }).click();
      await expect.poll(() => page.getByTestId('job-status').textContent(), { timeout: 30_000 }).toBe('STOPPED');
      expect((await jobOf(head, 'ticker-1')).status).toBe('STOPPED');
      await expect.poll(() => page.getByRole('button', { name: 'Stop job' }).count(), { timeout: 10_000 }).toBe(0);
      expect(ui.errors).toEqual([]);
    } finally {
      await ui.close();
    }
  });
});
