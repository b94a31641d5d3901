/**
 * Issue 3, acceptance 1, 5, 7, 8 (runtime half): a user's own script imports 'rayts', `init()` with
 * no cluster starts a private one, tasks run (nested too, with import('rayts') inside), errors come
 * back with Ray's classes, and after `shutdown` nothing of it is left.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { TestCluster } from '../helpers/cluster.js';
import { makeUserProject, resultOf, runDriver } from '../helpers/driver.js';

let cluster: TestCluster;
afterEach(async () => {
  const { leftover } = await cluster.cleanup();
  expect(leftover).toEqual([]);
});

const localDirs = () => new Set(readdirSync(tmpdir()).filter((n) => n.startsWith('rayts-local-')));

describe('a driver with no cluster running', () => {
  it('starts a private cluster, runs tasks, and leaves nothing after shutdown', async () => {
    cluster = new TestCluster();
    const dir = makeUserProject(cluster);
    const before = localDirs();
    const run = await runDriver(cluster, dir, `
      import * as ray from 'rayts';
      await ray.init({ numCpus: 2 });
      const square = ray.remote((x) => x * x);
      const values = await ray.get(Array.from({ length: 20 }, (_, i) => square.remote(i)));
      const chained = await ray.get(square.remote(square.remote(3)));
      const outer = ray.remote(async (n) => {
        const ray = await import('rayts');
        const inner = ray.remote((x) => x + 1);
        const got = await ray.get(Array.from({ length: n }, (_, i) => inner.remote(i)));
        return got.reduce((a, b) => a + b, 0);
      });
      const nested = await ray.get(outer.remote(10));
      const ctx = ray.getRuntimeContext();
      await ray.shutdown();
      console.log('RESULT ' + JSON.stringify({ values, chained, nested, jobId: ctx.jobId, pid: process.pid }));
    `);
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf(run);
    expect(r.values).toEqual(Array.from({ length: 20 }, (_, i) => i * i));
    expect(r.chained).toBe(81);
    expect(r.nested).toBe(55);
    expect(r.jobId).toMatch(/^[0-9a-f]{8}$/);
    // Nothing of the private cluster is left: processes (by the inherited marker) and its temp dir.
    expect(cluster.processes()).toEqual([]);
    const leftDirs = [...localDirs()].filter((d) => !before.has(d));
    expect(leftDirs).toEqual([]);
  });

  it('a killed driver takes its private cluster down with it', async () => {
    cluster = new TestCluster();
    const dir = makeUserProject(cluster);
    const before = localDirs();
    const run = await runDriver(cluster, dir, `
      import * as ray from 'rayts';
      await ray.init({ numCpus: 1 });
      await ray.get(ray.remote(() => 1).remote());
      console.log('RESULT ' + JSON.stringify({ ok: true }));
      process.kill(process.pid, 'SIGKILL');
    `);
    expect(run.signal).toBe('SIGKILL');
    expect(resultOf(run).ok).toBe(true);
    const { pollUntil } = await import('@rayts/common');
    expect(await pollUntil(() => cluster.processes().length === 0, 20_000)).toBe(true);
    // …and its temp dir.
    expect(await pollUntil(() => [...localDirs()].every((d) => before.has(d)), 10_000)).toBe(true);
  });
});

describe('task errors', () => {
  it('RayTaskError, worker crashes with retries, non-serializable results, closures', async () => {
    cluster = new TestCluster();
    const dir = makeUserProject(cluster);
    const attemptsFile = `${cluster.root}/attempts`;
    const run = await runDriver(cluster, dir, `
      import * as ray from 'rayts';
      import { appendFileSync, readFileSync, existsSync } from 'node:fs';
      await ray.init({ numCpus: 2 });
      const out = {};
      const boom = ray.remote(function validateInput(x) { if (x < 0) throw new RangeError('x must be >= 0, got ' + x); return x; });
      try { await ray.get(boom.remote(-1)); } catch (e) {
        out.taskError = { cls: e.constructor.name, isRayTaskError: e instanceof ray.RayTaskError, taskName: e.taskName, remoteMessage: e.remoteMessage,
          remoteName: e.remoteErrorName, stackHasFn: e.remoteStack.includes('validateInput'), causeCls: e.cause?.constructor?.name, pid: e.pid, ip: e.nodeIp };
      }
      const crash = ray.remote(async (file) => {
        const fs = await import('node:fs');
        fs.appendFileSync(file, 'x');
        process.exit(3);
      });
      try { await ray.get(crash.options({ maxRetries: 0 }).remote(${JSON.stringify(attemptsFile + '-0')})); } catch (e) { out.noRetry = { cls: e.constructor.name, msg: e.message }; }
      try { await ray.get(crash.options({ maxRetries: 2 }).remote(${JSON.stringify(attemptsFile + '-2')})); } catch (e) { out.twoRetries = e.constructor.name; }
      out.attempts0 = readFileSync(${JSON.stringify(attemptsFile + '-0')}, 'utf8').length;
      out.attempts2 = readFileSync(${JSON.stringify(attemptsFile + '-2')}, 'utf8').length;
      const flaky = ray.remote(async (file) => {
        const fs = await import('node:fs');
        fs.appendFileSync(file, 'x');
        if (fs.readFileSync(file, 'utf8').length < 3) process.exit(1);
        return 'survived';
      });
      out.flaky = await ray.get(flaky.remote(${JSON.stringify(attemptsFile + '-flaky')}));
      const appErr = ray.remote(async (file) => { const fs = await import('node:fs'); fs.appendFileSync(file, 'x'); throw new Error('app'); });
      try { await ray.get(appErr.options({ maxRetries: 2 }).remote(${JSON.stringify(attemptsFile + '-app')})); } catch (e) { out.appNoRetry = readFileSync(${JSON.stringify(attemptsFile + '-app')}, 'utf8').length; }
      try { await ray.get(appErr.options({ maxRetries: 2, retryExceptions: true }).remote(${JSON.stringify(attemptsFile + '-appr')})); } catch (e) { out.appRetry = readFileSync(${JSON.stringify(attemptsFile + '-appr')}, 'utf8').length; }
      const badReturn = ray.remote(() => ({ handler: () => 1 }));
      try { await ray.get(badReturn.remote()); } catch (e) { out.badReturn = { cls: e.constructor.name, msg: e.message }; }
      out.afterBad = await ray.get(ray.remote((a, b) => a + b).remote(2, 3));
      const factor = 3;
      try { ray.remote((x) => x * factor); } catch (e) { out.closure = { cls: e.constructor.name, msg: e.message }; }
      try { await ray.get(ray.remote(async () => { await new Promise((r) => setTimeout(r, 10000)); }).remote(), { timeout: 0.2 }); } catch (e) { out.timeout = e.constructor.name; }
      await ray.shutdown();
      console.log('RESULT ' + JSON.stringify(out));
    `);
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf(run);
    expect(r.taskError).toMatchObject({ cls: 'RayTaskError', isRayTaskError: true, taskName: 'validateInput', remoteMessage: 'x must be >= 0, got -1', remoteName: 'RangeError', stackHasFn: true, causeCls: 'RangeError', ip: '127.0.0.1' });
    expect(r.taskError.pid).toBeGreaterThan(0);
    expect(r.noRetry.cls).toBe('WorkerCrashedError');
    expect(r.noRetry.msg).toContain('exited with code 3');
    expect(r.attempts0).toBe(1);
    expect(r.twoRetries).toBe('WorkerCrashedError');
    expect(r.attempts2).toBe(3);
    expect(r.flaky).toBe('survived');
    expect(r.appNoRetry).toBe(1);
    expect(r.appRetry).toBe(3);
    expect(r.badReturn.cls).toBe('TaskSerializationError');
    expect(r.badReturn.msg).toMatch(/function at .*handler/);
    expect(r.afterBad).toBe(5);
    expect(r.closure.cls).toBe('ClosureError');
    expect(r.closure.msg).toContain("'factor'");
    expect(r.timeout).toBe('GetTimeoutError');
  });

  it('cancel drops a queued task and kills a running one with force', async () => {
    cluster = new TestCluster();
    const dir = makeUserProject(cluster);
    const run = await runDriver(cluster, dir, `
      import * as ray from 'rayts';
      await ray.init({ numCpus: 1 });
      const started = ${JSON.stringify(cluster.root + '/started')};
      const forever = ray.remote(async (path) => {
        const fs = await import('node:fs');
        fs.writeFileSync(path, String(process.pid));
        await new Promise((r) => setTimeout(r, 600000));
      });
      const running = forever.remote(started);
      const queued = forever.remote(started + '-never');
      const fs = await import('node:fs');
      while (!fs.existsSync(started)) await new Promise((r) => setTimeout(r, 10));
      const pid = Number(fs.readFileSync(started, 'utf8'));
      await ray.cancel(queued);
      await ray.cancel(running, { force: true });
      const errors = [];
      for (const r of [running, queued]) { try { await ray.get(r, { timeout: 20 }); errors.push('none'); } catch (e) { errors.push(e.constructor.name); } }
      let alive = true;
      try { process.kill(pid, 0); } catch { alive = false; }
      const after = await ray.get(ray.remote(() => 'still works').remote());
      await ray.shutdown();
      console.log('RESULT ' + JSON.stringify({ errors, workerAlive: alive, neverStarted: !fs.existsSync(started + '-never'), after }));
    `);
    expect(run.code, run.stderr).toBe(0);
    expect(resultOf(run)).toEqual({ errors: ['TaskCancelledError', 'TaskCancelledError'], workerAlive: false, neverStarted: true, after: 'still works' });
  });

  it('short tasks pipelined onto a busy worker never wait behind a task that blocks on them', async () => {
    cluster = new TestCluster();
    const dir = makeUserProject(cluster);
    const run = await runDriver(cluster, dir, `
      import * as ray from 'rayts';
      await ray.init({ numCpus: 2 });
      // The same function is short many times (so the raylet pipelines it), then blocks on
      // nested calls of itself submitted while other calls are queued behind it.
      const f = ray.remote(async (depth) => {
        if (depth === 0) return 1;
        const ray = await import('rayts');
        const self = ray.remote(async (d) => d);
        return (await ray.get(Array.from({ length: 4 }, () => self.remote(depth - 1)))).length;
      });
      for (let i = 0; i < 5; i++) await ray.get(Array.from({ length: 200 }, () => f.remote(0)));
      const mixed = await ray.get([...Array.from({ length: 50 }, () => f.remote(0)), f.remote(1), ...Array.from({ length: 50 }, () => f.remote(0)), f.remote(1)]);
      await ray.shutdown();
      console.log('RESULT ' + JSON.stringify({ total: mixed.reduce((a, b) => a + b, 0) }));
    `, {}, 90_000);
    expect(run.code, run.stderr).toBe(0);
    expect(resultOf(run).total).toBe(100 + 4 + 4);
  });

  it('extra workers started while others were blocked are reaped when idle', async () => {
    cluster = new TestCluster({ RAYTS_PRESTART_WORKERS: '2' });
    const head = await cluster.startHead({ numCpus: 2 });
    const dir = makeUserProject(cluster);
    const run = await runDriver(cluster, dir, `
      import * as ray from 'rayts';
      await ray.init({ address: ${JSON.stringify(head.gcsAddress)} });
      const outer = ray.remote(async () => {
        const ray = await import('rayts');
        const inner = ray.remote(async () => { await new Promise((r) => setTimeout(r, 200)); return 1; });
        return (await ray.get(Array.from({ length: 4 }, () => inner.remote()))).length;
      });
      const got = await ray.get(Array.from({ length: 4 }, () => outer.remote()));
      const { readdirSync } = await import('node:fs');
      const peak = readdirSync(${JSON.stringify(head.sessionDir + '/pids/workers')}).length;
      await ray.shutdown();
      console.log('RESULT ' + JSON.stringify({ got, peak }));
    `);
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf(run);
    expect(r.got).toEqual([4, 4, 4, 4]);
    expect(r.peak).toBeGreaterThan(2);
    const { readdirSync } = await import('node:fs');
    const { pollUntil } = await import('@rayts/common');
    expect(await pollUntil(() => readdirSync(`${head.sessionDir}/pids/workers`).length === 2, 20_000)).toBe(true);
  });

  it('wait returns refs in completion order and honours its timeout', async () => {
    cluster = new TestCluster();
    const dir = makeUserProject(cluster);
    const run = await runDriver(cluster, dir, `
      import * as ray from 'rayts';
      await ray.init({ numCpus: 2 });
      const gate = ray.remote(async (path, name) => {
        const fs = await import('node:fs');
        while (!fs.existsSync(path)) await new Promise((r) => setTimeout(r, 5));
        return name;
      });
      const dir = ${JSON.stringify(cluster.root)};
      const a = gate.remote(dir + '/gate-a', 'a');
      const b = gate.remote(dir + '/gate-b', 'b');
      const [none, pending] = await ray.wait([a, b], { numReturns: 1, timeout: 0.3 });
      const fs = await import('node:fs');
      fs.writeFileSync(dir + '/gate-b', '');
      const [first] = await ray.wait([a, b], { numReturns: 1 });
      fs.writeFileSync(dir + '/gate-a', '');
      const [both] = await ray.wait([a, b], { numReturns: 2 });
      await ray.shutdown();
      console.log('RESULT ' + JSON.stringify({ none: none.length, pending: pending.length, first: first[0] === b, order: both.map((r) => (r === a ? 'a' : 'b')) }));
    `);
    expect(run.code, run.stderr).toBe(0);
    expect(resultOf(run)).toEqual({ none: 0, pending: 2, first: true, order: ['b', 'a'] });
  });
});

