/**
 * Prometheus metrics end to end: a head and a worker node (127.0.0.1, 127.0.0.2) run tasks on both
 * nodes, an actor and a failing task; a real Prometheus (Debian's /usr/bin/prometheus), configured
 * from the shipped monitoring/prometheus.yml, finds both raylets through the head's discovery file,
 * scrapes them with the cluster token, and counts every task attempt exactly once. The raylets'
 * endpoints refuse a wrong token, and serve without one on a node started with --metrics-auth=false.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil, type RayletReady } from '@rayts/common';
import { METRICS_DISCOVERY_FILE, type FileSdGroup } from '@rayts/gcs';
import { ROOT, readJsonFile, useCluster } from '../helpers/cluster.js';
import { makeUserProject, resultOf, runDriver } from '../helpers/driver.js';
import { PROMTOOL, requirePrometheus, startPrometheus } from '../helpers/prometheus.js';

const newCluster = useCluster();

interface Workload {
  perNodeRan: Record<string, number>;
  failed: number;
  lastCount: number;
}

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

interface ApiReply<T> {
  status: string;
  data: T;
}

const PER_NODE = 5;
const ACTOR_CALLS = 7;

/** The shipped config with the test's interval, token file and discovery file. */
function prometheusConfig(tokenFile: string, discoveryFile: string): string {
  const shipped = readFileSync(join(ROOT, 'monitoring', 'prometheus.yml'), 'utf8');
  const config = shipped
    .replace(/scrape_interval: 10s/, 'scrape_interval: 1s')
    .replace(/evaluation_interval: 10s/, 'evaluation_interval: 1s')
    .replace('credentials_file: /etc/rayts/token', `credentials_file: ${tokenFile}`)
    .replace('- /tmp/rayts/prom_metrics_service_discovery.json', `- ${discoveryFile}`);
  // Each substitution found its line: the shipped file still has this shape.
  for (const text of ['scrape_interval: 1s', 'evaluation_interval: 1s', tokenFile, discoveryFile]) expect(config).toContain(text);
  return config;
}

/** The metric names a Grafana dashboard's queries use, without histogram suffixes. */
function dashboardMetricNames(): string[] {
  const dashboard = JSON.parse(readFileSync(join(ROOT, 'monitoring', 'grafana', 'rayts-dashboard.json'), 'utf8')) as { panels: { targets?: { expr: string }[] }[] };
  const exprs = dashboard.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr);
  return [...new Set(exprs.flatMap((e) => e.match(/rayts_[a-z_]+/g) ?? []).map((n) => n.replace(/_(bucket|sum|count)$/, '')))].sort();
}

describe('Prometheus metrics', () => {
  it('a real Prometheus finds both raylets through the discovery file and counts every task attempt once', async () => {
    requirePrometheus();
    const cluster = newCluster();
    const head = await cluster.startHead({ numCpus: 2 });
    const worker = await cluster.startWorker(head, { name: 'w2', ip: '127.0.0.2', numCpus: 2, args: ['--metrics-auth=false'] });
    const headRaylet = readJsonFile<RayletReady>(join(head.sessionDir, 'raylet.json'));
    const workerRaylet = readJsonFile<RayletReady>(join(worker.sessionDir, 'raylet.json'));
    const tokenFile = join(head.tempDir, 'state', 'token');
    const token = readFileSync(tokenFile, 'utf8').trim();
    expect(head.result.stdout).toContain(`Prometheus metrics of this node: http://127.0.0.1:${headRaylet.metricsExportPort}/metrics`);

    // The head's raylet wants the token; the worker's was started with --metrics-auth=false.
    const headUrl = `http://127.0.0.1:${headRaylet.metricsExportPort}/metrics`;
    expect((await fetch(headUrl)).status).toBe(401);
    expect((await fetch(headUrl, { headers: { authorization: `Bearer ${'0'.repeat(64)}` } })).status).toBe(401);
    const scraped = await fetch(headUrl, { headers: { authorization: `Bearer ${token}` } });
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain('rayts_task_attempts_ended_total{type="NORMAL_TASK",state="FINISHED"');
    const open = await fetch(`http://127.0.0.2:${workerRaylet.metricsExportPort}/metrics`);
    expect(open.status).toBe(200);
    expect(await open.text()).toContain(`node_ip="127.0.0.2"`);

    // The head lists both raylets and its own /metrics (on its HTTP API) in the discovery file of its temp dir.
    const discoveryFile = join(head.tempDir, METRICS_DISCOVERY_FILE);
    const headApi = new URL(head.dashboardUrl!).host;
    const rayletTargets = [`127.0.0.1:${headRaylet.metricsExportPort}`, `127.0.0.2:${workerRaylet.metricsExportPort}`];
    const expectedTargets = [...rayletTargets, headApi].sort();
    let listed: string[] = [];
    const found = await pollUntil(() => {
      if (!existsSync(discoveryFile)) return false;
      listed = (JSON.parse(readFileSync(discoveryFile, 'utf8')) as FileSdGroup[]).flatMap((g) => g.targets).sort();
      return listed.length === 3;
    }, 30_000, 100);
    expect(found, `discovery file lists ${JSON.stringify(listed)}`).toBe(true);
    expect(listed).toEqual(expectedTargets);

    // Tasks on each node (hard node affinity), one failing task, and calls on an actor.
    const status = await cluster.statusJson(head.tempDir);
    const nodeIds = status.nodes.active.map((n) => n.nodeId);
    expect(nodeIds).toHaveLength(2);
    const dir = makeUserProject(cluster);
    const run = await runDriver(cluster, dir, 'tasks/metrics_workload.mjs', { address: head.gcsAddress, nodeIds, perNode: PER_NODE, actorCalls: ACTOR_CALLS });
    const workload = resultOf<Workload>(run);
    expect(workload).toEqual({ perNodeRan: Object.fromEntries(nodeIds.map((id) => [id, PER_NODE])), failed: 1, lastCount: ACTOR_CALLS });
    const attempts = 2 * PER_NODE + 1 + ACTOR_CALLS;

    const config = prometheusConfig(tokenFile, discoveryFile);
    const prom = await startPrometheus(cluster, config);
    try {
      // promtool accepts the config Prometheus runs (it also checks that the token file exists).
      execFileSync(PROMTOOL, ['check', 'config', join(cluster.root, 'prometheus', 'prometheus.yml')], { stdio: 'pipe' });

      let targets: { scrapeUrl: string; health: string; lastError: string; labels: Record<string, string> }[] = [];
      const up = await pollUntil(async () => {
        const reply = await prom.api<ApiReply<{ activeTargets: typeof targets }>>('/api/v1/targets');
        targets = reply?.data.activeTargets ?? [];
        return targets.length === 3 && targets.every((t) => t.health === 'up');
      }, 60_000, 250);
      expect(up, `targets: ${JSON.stringify(targets)}\n${prom.output()}`).toBe(true);
      expect(targets.map((t) => t.scrapeUrl).sort()).toEqual(expectedTargets.map((t) => `http://${t}/metrics`));
      expect(Object.fromEntries(targets.map((t) => [new URL(t.scrapeUrl).host, t.labels.component]))).toEqual({
        ...Object.fromEntries(rayletTargets.map((t) => [t, 'raylet'])), [headApi]: 'head',
      });
      expect(targets.every((t) => t.labels.job === 'rayts')).toBe(true);

      const query = async (q: string) => (await prom.api<ApiReply<{ result: Sample[] }>>(`/api/v1/query?query=${encodeURIComponent(q)}`))?.data.result ?? [];
      let total = '';
      const counted = await pollUntil(async () => {
        total = (await query('sum(rayts_task_attempts_ended_total)'))[0]?.value[1] ?? '';
        return total === String(attempts);
      }, 60_000, 250);
      expect(counted, `sum(rayts_task_attempts_ended_total) = ${total}, expected ${attempts}`).toBe(true);

      const byKind = Object.fromEntries((await query('sum by (type, state) (rayts_task_attempts_ended_total)'))
        .map((s) => [`${s.metric.type} ${s.metric.state}`, Number(s.value[1])]));
      expect(byKind).toEqual({
        'NORMAL_TASK FINISHED': 2 * PER_NODE, 'NORMAL_TASK FAILED': 1, 'ACTOR_TASK FINISHED': ACTOR_CALLS, 'ACTOR_TASK FAILED': 0,
      });
      const normalByNode = Object.fromEntries((await query('sum by (node_ip) (rayts_task_attempts_ended_total{type="NORMAL_TASK",state="FINISHED"})'))
        .map((s) => [s.metric.node_ip, Number(s.value[1])]));
      expect(normalByNode).toEqual({ '127.0.0.1': PER_NODE, '127.0.0.2': PER_NODE });

      // The head's cluster metrics, scraped from its HTTP API: two alive nodes.
      let alive = '';
      const nodesUp = await pollUntil(async () => {
        alive = (await query('rayts_cluster_nodes{state="ALIVE"}'))[0]?.value[1] ?? '';
        return alive === '2';
      }, 60_000, 250);
      expect(nodesUp, `rayts_cluster_nodes{state="ALIVE"} = ${alive}`).toBe(true);

      // Every metric the shipped Grafana dashboard queries exists, as scraped here.
      const names = (await prom.api<ApiReply<string[]>>('/api/v1/label/__name__/values'))?.data ?? [];
      const scrapedNames = new Set(names.map((n) => n.replace(/_(bucket|sum|count)$/, '')));
      const missing = dashboardMetricNames().filter((n) => !scrapedNames.has(n));
      expect(missing).toEqual([]);
      expect(scrapedNames.has('rayts_grpc_server_latency_seconds')).toBe(true);
    } finally {
      await prom.stop();
    }
  });
});
