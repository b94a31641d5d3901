/**
 * Every page of the dashboard in real Chromium, at a laptop's and a phone's size, against a real
 * two-node cluster with tasks (some failed), an actor, a placement group, objects and a job: each
 * page shows its data, nothing logs a console error or throws, every control has an accessible
 * name, the page does not scroll sideways, and each is screenshotted into
 * test-artifacts/screenshots/<page>-<width>.png (docs/dashboard.md shows a copy).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { collect, TestCluster, type RunResult, type StartedNode } from '../helpers/cluster.js';
import { makeUserProject, spawnDriver, told } from '../helpers/driver.js';
import { api, tokenOf } from '../helpers/jobs.js';
import { LAPTOP, PHONE, logIn, openDashboard, screenshot, useBrowser } from '../helpers/browser.js';

const browser = useBrowser();

interface Ready { booms: { taskId: string }[]; actorId: string }

let cluster: TestCluster;
let head: StartedNode;
let dir: string;
let driverDone: Promise<RunResult>;
let ready: Ready;
let headNodeId: string;

beforeAll(async () => {
  cluster = new TestCluster({ RAYTS_DASHBOARD_HISTORY_INTERVAL_MS: '500' });
  head = await cluster.startHead({ numCpus: 2 });
  await cluster.startWorker(head, { name: 'worker', ip: '127.0.0.2', numCpus: 2 });
  dir = makeUserProject(cluster);
  driverDone = collect(spawnDriver(cluster, dir, 'observability/workload.mjs', { address: head.gcsAddress }), 180_000);
  ready = await told<Ready>(dir, 'ready', 120_000);
  const job = await cluster.rayts(['job', 'submit', `--address=${head.dashboardUrl}`, '--submission-id', 'hello-1', '--', 'echo', 'hello from a job']);
  expect(job.code, job.stderr).toBe(0);
  const nodes = (await api(head, '/api/v0/nodes')).json as { result: { node_id: string; is_head_node: boolean }[] };
  headNodeId = nodes.result.find((n) => n.is_head_node)!.node_id;
}, 240_000);

afterAll(async () => {
  if (dir) writeFileSync(join(dir, 'gate'), '');
  await driverDone?.catch(() => undefined);
  const left = await cluster?.cleanup();
  expect(left?.leftover ?? []).toEqual([]);
}, 120_000);

/** Waits until the page shows its data: a heading, and no "Loading…" left. */
async function settled(page: Page, heading: RegExp): Promise<void> {
  await page.getByRole('heading', { level: 1, name: heading }).waitFor({ timeout: 20_000 });
  await expect.poll(() => page.getByText('Loading…').count(), { timeout: 20_000 }).toBe(0);
}

/** Buttons, links, inputs and selects without an accessible name (by a cheap check of their text and labels). */
async function unnamedControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const bad: string[] = [];
    for (const el of Array.from(document.querySelectorAll('a, button, input, select, [tabindex="0"]'))) {
      const e = el as HTMLElement;
      const labelled = e.getAttribute('aria-label') || e.getAttribute('aria-labelledby') || e.textContent?.trim()
        || ((e as HTMLInputElement).labels?.length ?? 0) > 0 || e.getAttribute('title');
      if (!labelled) bad.push(e.outerHTML.slice(0, 120));
    }
    return bad;
  });
}

async function scrollsSideways(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth + 1);
}

describe('the data behind the Nodes pages', () => {
  it('node_stats has each host\'s CPU and memory, and every alive worker its CPU and resident memory', async () => {
    const stats = (await api(head, '/api/v0/node_stats')).json as { result: { node_ip: string; num_cpus: number; memory_total_bytes: number; memory_used_bytes: number; cpu_percent: number }[] };
    expect(stats.result.map((s) => s.node_ip).sort()).toEqual(['127.0.0.1', '127.0.0.2']);
    for (const s of stats.result) {
      expect(s.num_cpus).toBeGreaterThan(0);
      expect(s.memory_used_bytes).toBeGreaterThan(0);
      expect(s.memory_used_bytes).toBeLessThanOrEqual(s.memory_total_bytes);
      expect(s.cpu_percent).toBeGreaterThanOrEqual(0);
    }
    const workers = (await api(head, '/api/v0/workers?detail=true&limit=10000')).json as { result: { is_alive: boolean; rss_bytes: number | null; cpu_percent: number | null }[] };
    const alive = workers.result.filter((w) => w.is_alive);
    expect(alive.length).toBeGreaterThan(0);
    for (const w of alive) {
      expect(w.rss_bytes).toBeGreaterThan(1024 * 1024);
      expect(w.cpu_percent).toBeGreaterThanOrEqual(0);
    }
    expect(workers.result.filter((w) => !w.is_alive).every((w) => w.rss_bytes === null)).toBe(true);
  });
});

for (const viewport of [LAPTOP, PHONE]) {
  describe(`dashboard pages at ${viewport.width}×${viewport.height}`, () => {
    it('every page shows its data without console errors, with named controls and no sideways scrolling; each is screenshotted', async () => {
      const ui = await openDashboard(browser(), head.dashboardUrl!, viewport);
      try {
        const { page } = ui;
        await page.getByLabel('Cluster token').waitFor();
        await screenshot(page, 'login');
        await logIn(page, tokenOf(head));
        const pages: [string, string, RegExp, (p: Page) => Promise<void>][] = [
          ['overview', '#/', /Cluster overview/, async (p) => {
            await expect.poll(() => p.getByTestId('nodes-alive').textContent(), { timeout: 20_000 }).toBe('2');
            await p.locator('.uplot').first().waitFor();
          }],
          ['nodes', '#/nodes', /Nodes/, async (p) => { await p.getByTestId('node-state-127.0.0.2').waitFor(); }],
          ['node', `#/nodes/${headNodeId}`, /Node /, async (p) => {
            await p.getByRole('region', { name: 'Log files' }).waitFor();
            // Each live worker's resident memory (and CPU) from its raylet.
            await expect.poll(() => p.getByRole('region', { name: 'Workers' }).getByText(/^\d+(\.\d+)? MiB$/).count(), { timeout: 20_000 }).toBeGreaterThan(0);
          }],
          ['jobs', '#/jobs', /Jobs/, async (p) => { await p.getByRole('link', { name: 'job hello-1' }).waitFor(); }],
          ['job', '#/jobs/hello-1', /Job hello-1/, async (p) => {
            await expect.poll(() => p.getByRole('log', { name: 'driver log' }).textContent(), { timeout: 20_000 }).toContain('hello from a job');
          }],
          ['tasks', '#/tasks', /Tasks/, async (p) => { await p.getByRole('region', { name: 'Task summary' }).getByText('boom').waitFor(); }],
          ['task', `#/tasks/${ready.booms[0]!.taskId}`, /Task /, async (p) => {
            await p.getByTestId('error-type').first().waitFor();
            // Exactly what this attempt wrote to its standard error.
            await expect.poll(() => p.getByRole('log', { name: 'error output of attempt 0' }).textContent(), { timeout: 20_000 })
              .toBe(`boom-output ${ready.booms[0]!.taskId}\n`);
          }],
          ['actors', '#/actors', /Actors/, async (p) => { await p.getByText('Counter').first().waitFor(); }],
          ['actor', `#/actors/${ready.actorId}`, /Actor /, async (p) => {
            await expect.poll(() => p.getByRole('log', { name: 'actor standard output' }).textContent(), { timeout: 20_000 }).toContain('actor-output');
          }],
          ['placement-groups', '#/placement-groups', /Placement groups/, async (p) => { await p.getByText('state-pg').waitFor(); }],
          ['objects', '#/objects', /Objects/, async (p) => { await p.getByRole('region', { name: 'Object references' }).waitFor(); }],
          ['logs', '#/logs', /Logs/, async (p) => { await p.getByRole('link', { name: /127\.0\.0\.2/ }).waitFor(); }],
          ['log-file', `#/logs/${headNodeId}?file=raylet.log`, /raylet\.log/, async (p) => {
            await expect.poll(() => p.getByRole('log', { name: 'log file raylet.log' }).textContent(), { timeout: 20_000 }).toMatch(/\S{20}/);
          }],
          ['timeline', '#/timeline', /Timeline/, async (p) => {
            const href = await p.getByRole('link', { name: /Download the timeline/ }).getAttribute('href');
            const trace = await p.evaluate(async (u) => (await fetch(u!)).json(), href);
            expect(Array.isArray(trace) && trace.some((e: { ph: string }) => e.ph === 'X')).toBe(true);
          }],
        ];
        for (const [name, hash, heading, check] of pages) {
          await page.goto(`${head.dashboardUrl}/${hash}`);
          await settled(page, heading);
          await check(page);
          expect(await unnamedControls(page), `${name}: controls without a name`).toEqual([]);
          expect(await scrollsSideways(page), `${name} scrolls sideways at ${viewport.width}px`).toBe(false);
          await screenshot(page, name);
        }
        // Keyboard: Tab reaches the skip link and then the navigation.
        await page.goto(`${head.dashboardUrl}/#/`);
        await settled(page, /Cluster overview/);
        await page.keyboard.press('Tab');
        expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
        await page.keyboard.press('Tab');
        expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Overview');
        expect(ui.errors).toEqual([]);
      } finally {
        await ui.close();
      }
    });
  });
}
