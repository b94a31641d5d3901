/**
 * Helpers for tests of submitted jobs: the head's jobs REST API with the cluster token, polling a
 * job's status with a deadline, and copying a working_dir fixture to a directory outside the repo.
 */
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil } from '@rayts/common';
import { http, type HttpAnswer, type HttpCall } from './http.js';
import type { StartedNode, TestCluster } from './cluster.js';
import { ROOT } from './cluster.js';

export const JOB_FIXTURES = join(ROOT, 'test/fixtures/jobs');

export interface JobJson {
  type: string;
  job_id: string | null;
  submission_id: string | null;
  status: string;
  message: string;
  error_type: string | null;
  entrypoint: string;
  start_time: number;
  end_time: number | null;
  driver_info: { id: string; node_ip_address: string; pid: string | number } | null;
  driver_node_id: string | null;
  driver_exit_code: number | null;
  runtime_env: Record<string, unknown>;
}

export function tokenOf(head: StartedNode): string {
  return readFileSync(join(head.tempDir, 'state', 'token'), 'utf8').trim();
}

/** The head's HTTP API with the token (and a same-origin Origin for state changes). */
export function api(head: StartedNode, path: string, call: HttpCall = {}): Promise<HttpAnswer> {
  const base = head.dashboardUrl!;
  return http(base, path, { ...call, headers: { authorization: `Bearer ${tokenOf(head)}`, origin: new URL(base).origin, ...call.headers } });
}

export async function jobOf(head: StartedNode, id: string): Promise<JobJson> {
  const r = await api(head, `/api/jobs/${id}`);
  if (r.status !== 200) throw new Error(`GET /api/jobs/${id}: ${r.status} ${r.text}`);
  return r.json as JobJson;
}

/** Polls the job until `predicate` holds; fails with its last state. */
export async function waitForJob(head: StartedNode, id: string, predicate: (j: JobJson) => boolean, timeoutMs = 60_000): Promise<JobJson> {
  let last: JobJson | undefined;
  const ok = await pollUntil(async () => {
    try {
      last = await jobOf(head, id);
      return predicate(last);
    } catch {
      return false;
    }
  }, timeoutMs, 100);
  if (!ok) throw new Error(`job ${id} did not reach the expected state in ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
  return last!;
}

/** Copies test/fixtures/jobs/<name> into the cluster's temp root (outside the repo); returns its path. */
export function copyJobFixture(cluster: TestCluster, name: string, as = name): string {
  const dir = join(cluster.root, as);
  cpSync(join(JOB_FIXTURES, name), dir, { recursive: true });
  return dir;
}

export const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'STOPPED']);
