/**
 * The dashboard's failure views in real Chromium: a task that threw shows its error type and
 * message on its page, and an actor whose worker was killed once shows 1 restart (its page and the
 * Actors table), updated without a reload.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collect, useCluster } from '../helpers/cluster.js';
import { makeUserProject, spawnDriver, told } from '../helpers/driver.js';
import { tokenOf } from '../helpers/jobs.js';
import { logIn, openDashboard, useBrowser } from '../helpers/browser.js';

const newCluster = useCluster();
const browser = useBrowser();

interface Ready { failingTaskId: string; actorId: string; pid1: number; pid2: number }

describe('dashboard: failures', () => {
  it('a failing task shows its error type and message; an actor killed once shows 1 restart', async () => {
    const cluster = newCluster();
    const head = await cluster.startHead({ numCpus: 2 });
    const dir = makeUserProject(cluster);
    const driver = collect(spawnDriver(cluster, dir, 'dashboard/failures.mjs', { address: head.gcsAddress }), 180_000);
    const ui = await openDashboard(browser(), head.dashboardUrl!);
    try {
      const ready = await told<Ready>(dir, 'ready', 120_000);
      expect(ready.pid2).not.toBe(ready.pid1);
      const { page } = ui;
      await logIn(page, tokenOf(head));

      await page.goto(`${head.dashboardUrl}/#/tasks/${ready.failingTaskId}`);
      // Task events reach the head within a report interval: the page polls until they are there.
      await expect.poll(() => page.getByTestId('error-type').first().textContent(), { timeout: 20_000 }).toBe('TASK_EXECUTION_EXCEPTION');
      const message = await page.getByTestId('error-message').first().textContent();
      expect(message).toContain("TypeError: config value 'workers' must be a number");
      expect(message, 'the task page shows the remote stack under the message').toMatch(/\n\s+at \S+ \(rayts:\/\/function\//);

      await page.goto(`${head.dashboardUrl}/#/actors`);
      await expect.poll(() => page.getByTestId(`restarts-${ready.actorId}`).textContent(), { timeout: 20_000 }).toBe('1');
      await page.getByRole('link', { name: `actor Keeper ${ready.actorId}` }).click();
      await expect.poll(() => page.getByTestId('actor-restarts').textContent(), { timeout: 20_000 }).toBe('1');
      await expect.poll(() => page.getByText('ALIVE').first().isVisible(), { timeout: 20_000 }).toBe(true);
      expect(ui.errors).toEqual([]);
    } finally {
      await ui.close();
      writeFileSync(join(dir, 'gate'), '');
      const run = await driver;
      expect(run.code, run.stderr).toBe(0);
    }
  });
});
