/**
 * The gate in front of the local scheduler with real runtime envs (a PackageService in this process)
 * and a real scheduler: tasks wait for their job's env in order, run bound to it, fail with
 * RUNTIME_ENV_SETUP_FAILED when it cannot be set up, and can be cancelled while they wait.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nullLogger, pollUntil, runtimeEnvToJson } from '@rayts/common';
import { LocalScheduler, type QueuedTask } from '../local_scheduler.js';
import type { BindJob, Execute, TaskOutcome } from '../protocol.js';
import { RuntimeEnvGate } from './env_gate.js';
import { startJobsHarness, type JobsHarness } from './jobs.test_helper.js';

let h: JobsHarness;
beforeEach(async () => { h = await startJobsHarness(); });
afterEach(async () => { await h.close(); });

function setup(records: Record<string, string>) {
  const envs = h.envs({ lookup: async (jobId) => ({ found: jobId in records, runtimeEnvJson: records[jobId] ?? '', finished: false }) });
  const scheduler = new LocalScheduler({ total: { CPU: 4 }, workers: { startWorker: () => false, killWorker: () => undefined }, logger: nullLogger, pipeline: { depth: 0, maxAvgMs: 0, minRuns: 1 } });
  const gate = new RuntimeEnvGate('node-1', envs, scheduler, nullLogger);
  const outcomes = new Map<string, TaskOutcome>();
  const messages: string[] = [];
  const task = (taskId: string, jobId: string): QueuedTask => ({
    spec: {
      taskId, jobId, attempt: 0, name: taskId, fnHash: `fn-${taskId}`, args: [], returnId: `${taskId}-ret`, resources: { CPU: 1 },
      strategy: { kind: 'DEFAULT' }, owner: { nodeId: 'node-1', clientId: 'driver-1' }, depth: 0, driverNodeId: 'node-1',
    },
    jobDir: '/driver/project', queuedAt: 0, deliver: (o) => { outcomes.set(o.taskId, o); },
  });
  const addWorker = (workerId: string) => scheduler.addWorker({
    workerId, pid: 1, blocked: false,
    send: (m: Execute | BindJob) => messages.push(m.type === 'bindJob' ? `${workerId} bind ${m.jobId} ${m.dir ?? '-'}` : `${workerId} execute ${m.task.taskId} ${m.jobDir}`),
  });
  return { gate, scheduler, outcomes, messages, task, addWorker };
}

describe('RuntimeEnvGate', () => {
  it('holds a job\'s tasks until its working_dir is ready, then runs them in order on a worker bound to it', async () => {
    const uri = await h.upload(h.project({ 'lib.mjs': 'export default 1;\n' }));
    const { gate, scheduler, messages, task, addWorker } = setup({ j1: runtimeEnvToJson({ working_dir: uri }) });
    addWorker('w1');
    gate.enqueue(task('t1', 'j1'));
    gate.enqueue(task('t2', 'j1'));
    expect(scheduler.queued()).toEqual([]);
    expect(gate.waitingCount).toBe(2);
    expect(await pollUntil(() => messages.length >= 2, 10_000, 10)).toBe(true);
    const dir = `${h.paths.dir}/runtime_resources/working_dir/${uri.match(/[0-9a-f]{64}/)![0]}`;
    expect(messages).toEqual([`w1 bind j1 ${dir}`, `w1 execute t1 ${dir}`]);
    expect(scheduler.queued().map((t) => t.spec.taskId)).toEqual(['t2']);
    expect(gate.waitingCount).toBe(0);
  });

  it('lets tasks of a job without a runtime env through at once after the first lookup', async () => {
    const { gate, scheduler, messages, task, addWorker } = setup({});
    gate.enqueue(task('t1', 'plain'));
    expect(await pollUntil(() => scheduler.queued().length === 1, 5000, 5)).toBe(true);
    gate.enqueue(task('t2', 'plain'));
    expect(scheduler.queued().map((t) => t.spec.taskId)).toEqual(['t1', 't2']); // synchronously
    addWorker('w1');
    expect(messages).toEqual(['w1 bind plain -', 'w1 execute t1 /driver/project']);
  });

  it('fails the tasks of a job whose env cannot be set up, and cancels one that waits', async () => {
    const missing = `gcs://_rayts_pkg_${'cd'.repeat(32)}.tar.gz`;
    const { gate, scheduler, outcomes, task } = setup({ bad: runtimeEnvToJson({ working_dir: missing }) });
    gate.enqueue(task('t1', 'bad'));
    gate.enqueue(task('t2', 'bad'));
    expect(gate.cancel('t2')).toBe(true);
    expect(outcomes.get('t2')?.failure?.type).toBe('CANCELLED');
    expect(await pollUntil(() => outcomes.has('t1'), 10_000, 10)).toBe(true);
    const failure = outcomes.get('t1')!.failure!;
    expect(failure.type).toBe('RUNTIME_ENV_SETUP_FAILED');
    expect(failure.message).toMatch(/^the runtime env of job bad could not be set up on node node-1: /);
    expect(failure.message).toContain(missing);
    expect(scheduler.queued()).toEqual([]);
    expect(outcomes.get('t2')?.failure?.type).toBe('CANCELLED');
    expect(gate.cancel('t1')).toBe(false);
  });
});
