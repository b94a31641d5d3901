/**
 * The dashboard's Nodes page in real Chromium: killing the worker node's raylet (its whole process
 * group) turns that node DEAD on the open page without a reload, while the head node stays ALIVE;
 * the overview then names it under recent failures. When the head goes too, the page keeps its last
 * data under a banner that says the refresh failed.
 */
import { describe, expect, it } from 'vitest';
import { readProcStat } from '@rayts/common';
import { FAST_HEALTH, useCluster } from '../helpers/cluster.js';
import { tokenOf } from '../helpers/jobs.js';
import { logIn, openDashboard, useBrowser } from '../helpers/browser.js';

const newCluster = useCluster();
const browser = useBrowser();

describe('dashboard: node death', () => {
  it('a killed raylet turns its node DEAD on the Nodes page without a reload; a lost head leaves a banner over the last data', async () => {
    const cluster = newCluster(FAST_HEALTH);
    const head = await cluster.startHead({ numCpus: 1 });
    const worker = await cluster.startWorker(head, { name: 'w1', ip: '127.0.0.2', numCpus: 1 });
    await cluster.waitForStatus(head.tempDir, (s) => s.nodes.active.length === 2);
    const ui = await openDashboard(browser(), head.dashboardUrl!);
    try {
      const { page } = ui;
      await logIn(page, tokenOf(head));
      await page.getByRole('link', { name: 'Nodes' }).click();
      await expect.poll(() => page.getByTestId('node-state-127.0.0.2').textContent(), { timeout: 15_000 }).toBe('ALIVE');
      await page.evaluate(() => { (window as unknown as { mark: string }).mark = 'same page'; });

      const pgid = readProcStat(worker.rayletPid)!.pgid;
      expect(pgid).toBe(worker.rayletPid);
      process.kill(-pgid, 'SIGKILL');

      await expect.poll(() => page.getByTestId('node-state-127.0.0.2').textContent(), { timeout: 60_000 }).toBe('DEAD');
      expect(await page.getByTestId('node-state-127.0.0.1').textContent()).toBe('ALIVE');
      expect(await page.evaluate(() => (window as unknown as { mark?: string }).mark)).toBe('same page');

      await page.getByRole('link', { name: 'Overview' }).click();
      await expect.poll(() => page.getByText(/Node .* \(127\.0\.0\.2\) died/).count(), { timeout: 15_000 }).toBe(1);
      expect(ui.errors).toEqual([]);

      // The head itself goes: the page keeps its last data under a banner instead of going blank.
      await page.getByRole('link', { name: 'Nodes' }).click();
      await page.getByTestId('node-state-127.0.0.1').waitFor();
      process.kill(-readProcStat(head.headPid!)!.pgid, 'SIGKILL');
      await expect.poll(() => page.getByRole('alert').textContent(), { timeout: 15_000 }).toMatch(/^Could not refresh: .*showing data from/);
      expect(await page.getByTestId('node-state-127.0.0.1').textContent()).toBe('ALIVE');
      // What the browser logs then is only the failed requests themselves.
      expect(ui.errors.filter((e) => !e.includes('net::ERR_CONNECTION_REFUSED'))).toEqual([]);
    } finally {
      await ui.close();
    }
  });
});
