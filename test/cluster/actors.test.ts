/**
 * Issue 4, acceptance 1, 2, 4, 8, 9: actors on real clusters. Ordering per caller (callers on the
 * actor's node talk to its worker directly, callers on another node go through the raylets),
 * concurrency of async methods, restarts after SIGKILL with and without call retries, and bad input.
 * After each test every CPU is free again and no process of the test is left.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TestCluster } from '../helpers/cluster.js';
import { makeUserProject, resultOf, runDriver } from '../helpers/driver.js';

let cluster: TestCluster;
afterEach(async () => {
  const { leftover } = await cluster.cleanup();
  expect(leftover).toEqual([]);
});

/** Driver code that waits until the head reports every CPU free again (no leaked resources). */
const NO_LEAK = `
  const deadline = Date.now() + 20000;
  let total, avail;
  for (;;) {
    total = await ray.clusterResources(); avail = await ray.availableResources();
    if ((avail.CPU ?? 0) === total.CPU || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const leak = { totalCpu: total.CPU, availableCpu: avail.CPU ?? 0 };
`;

describe('actors', () => {
  it('Counter: calls apply in order per caller, from this node and from another node', async () => {
    cluster = new TestCluster({ RAYTS_REPORT_RESOURCES_PERIOD_MS: '200' });
    const head = await cluster.startHead({ numCpus: 2 });
    await cluster.startWorker(head, { name: 'w2', ip: '127.0.0.2', numCpus: 2 });
    await cluster.waitForStatus(head.tempDir, (s) => s.nodes.active.length === 2);
    const dir = makeUserProject(cluster);
    const run = await runDriver(cluster, dir, `
      import * as ray from 'rayts';
      await ray.init({ address: ${JSON.stringify(head.gcsAddress)} });
      const Counter = ray.remote(class Counter {
        value = 0;
        seen = {};
        increment() { return ++this.value; }
        record(caller, seq) { (this.seen[caller] ??= []).push(seq); return this.value; }
        get() { return this.value; }
        log() { return this.seen; }
        where() { return process.pid; }
      });
      const c = Counter.remote();
      for (let i = 0; i < 9; i++) c.increment.remote();
      const tenth = await ray.get(c.increment.remote());
      const value = await ray.get(c.get.remote());
      // Two callers in other processes, one on each node, each making 100 calls without waiting.
      const caller = ray.remote(async (handle, name) => {
        const ray = await import('rayts');
        const refs = [];
        for (let i = 0; i < 100; i++) refs.push(handle.record.remote(name, i));
        await ray.get(refs);
        return ray.getRuntimeContext().nodeIp;
      });
      const ips = await ray.get([caller.options({ scheduling: 'SPREAD' }).remote(c, 'a'), caller.options({ scheduling: 'SPREAD' }).remote(c, 'b')]);
      const log = await ray.get(c.log.remote());
      await ray.kill(c);
      ${NO_LEAK}
      await ray.shutdown();
      console.log('RESULT ' + JSON.stringify({ tenth, value, log, ips, leak }));
    `);
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf(run);
    expect(r.tenth).toBe(10);
    expect(r.value).toBe(10);
    const inOrder = Array.from({ length: 100 }, (_, i) => i);
    expect(r.log.a).toEqual(inOrder);
    expect(r.log.b).toEqual(inOrder);
    expect(new Set(r.ips).size).toBe(2); // one caller relayed through the raylets, one direct
    expect(r.leak.availableCpu).toBe(r.leak.totalCpu);
  });

  it('async methods overlap up to maxConcurrency; a sync class runs calls one at a time', async () => {
    cluster = new TestCluster();
    await cluster.startHead({ numCpus: 2 });
    const dir = makeUserProject(cluster);
    const run = await runDriver(cluster, dir, `
      import * as ray from 'rayts';
      await ray.init({ address: 'auto' });
      const Sleeper = ray.remote(class Sleeper {
        spans = [];
        async nap(ms) { const start = performance.now(); await new Promise((r) => setTimeout(r, ms)); this.spans.push([start, performance.now()]); }
        spansSoFar() { return this.spans; }
      });
      const Busy = ray.remote(class Busy {
        spans = [];
        spin(ms) { const start = performance.now(); while (performance.now() - start < ms) {} this.spans.push([start, performance.now()]); }
        spansSoFar() { return this.spans; }
      });
      const maxOverlap = (spans) => {
        const events = spans.flatMap(([s, e]) => [[s, 1], [e, -1]]).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
        let now = 0, max = 0;
        for (const [, d] of events) { now += d; max = Math.max(max, now); }
        return max;
      };
      const measure = async (handle, method, n, ms) => {
        await ray.get(Array.from({ length: n }, () => handle[method].remote(ms)));
        return maxOverlap(await ray.get(handle.spansSoFar.remote()));
      };
      const eight = await measure(Sleeper.options({ maxConcurrency: 8 }).remote(), 'nap', 16, 300);
      const asyncDefault = await measure(Sleeper.remote(), 'nap', 16, 300);
      const one = await measure(Sleeper.options({ maxConcurrency: 1 }).remote(), 'nap', 4, 50);
      const sync = await measure(Busy.remote(), 'spin', 4, 30);
      await ray.shutdown();
      console.log('RESULT ' + JSON.stringify({ eight, asyncDefault, one, sync }));
    `);
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf(run);
    expect(r.eight).toBe(8);
    expect(r.asyncDefault).toBe(16); // Ray's default for classes with async methods is 1000
    expect(r.one).toBe(1);
    expect(r.sync).toBe(1);
  });

  it('restarts after SIGKILL: constructor runs again, in-flight calls fail or retry, a second kill leaves it DEAD', async () => {
    cluster = new TestCluster();
    await cluster.startHead({ numCpus: 2 });
    const dir = makeUserProject(cluster);
    const run = await runDriver(cluster, dir, `
      import * as ray from 'rayts';
      import { join } from 'node:path';
      import { readFileSync } from 'node:fs';
      await ray.init({ address: 'auto' });
      const Svc = ray.remote(class Svc {
        constructor(logPath) { process.getBuiltinModule('node:fs').appendFileSync(logPath, 'ctor ' + process.pid + '\\n'); this.n = 0; }
        pid() { return process.pid; }
        inc() { return ++this.n; }
        async slow(ms) { await new Promise((r) => setTimeout(r, ms)); return 'done'; }
      });
      const out = {};
      for (const retries of [0, 1]) {
        const logPath = join(process.cwd(), 'ctor-' + retries + '.log');
        const a = Svc.options({ maxRestarts: 1, maxTaskRetries: retries }).remote(logPath);
        const pid1 = await ray.get(a.pid.remote());
        await ray.get(a.inc.remote());
        const inflight = a.slow.remote(1500);
        await new Promise((r) => setTimeout(r, 300));
        process.kill(pid1, 'SIGKILL');
        let inflightResult;
        try { inflightResult = await ray.get(inflight); } catch (e) { inflightResult = e.name; }
        const pid2 = await ray.get(a.pid.remote());
        const afterRestart = await ray.get(a.inc.remote());
        const restarts = (await ray.listActors()).find((x) => x.actorId === a.actorId).numRestarts;
        process.kill(pid2, 'SIGKILL');
        const deadline = Date.now() + 20000;
        let info;
        while (Date.now() < deadline) {
          info = (await ray.listActors()).find((x) => x.actorId === a.actorId);
          if (info.state === 'DEAD') break;
          await new Promise((r) => setTimeout(r, 100));
        }
        const later = [];
        for (let i = 0; i < 3; i++) {
          try { await ray.get(a.inc.remote()); later.push('ok'); } catch (e) { later.push(e.name + ': ' + e.deathCause + ': ' + e.message); }
        }
        out[retries] = { inflightResult, pidChanged: pid1 !== pid2, afterRestart, restarts, state: info.state, deathCause: info.deathCause, later,
          ctorRuns: readFileSync(logPath, 'utf8').trim().split('\\n').length };
      }
      ${NO_LEAK}
      await ray.shutdown();
      console.log('RESULT ' + JSON.stringify({ out, leak }));
    `);
    expect(run.code, run.stderr).toBe(0);
    const { out, leak } = resultOf(run);
    expect(['ActorDiedError', 'ActorUnavailableError']).toContain(out[0].inflightResult);
    expect(out[1].inflightResult).toBe('done');
    for (const k of ['0', '1']) {
      expect(out[k].pidChanged).toBe(true);
      expect(out[k].afterRestart).toBe(1); // a new instance: the constructor ran again
      expect(out[k].ctorRuns).toBe(2);
      expect(out[k].restarts).toBe(1);
      expect(out[k].state).toBe('DEAD');
      expect(out[k].deathCause).toBe('WORKER_DIED');
      for (const l of out[k].later) expect(l).toMatch(/^ActorDiedError: WORKER_DIED: .*killed by SIGKILL/);
    }
    expect(leak.availableCpu).toBe(leak.totalCpu);
  });

  it('bad input: unknown method, throwing constructor, duplicate name, bad options; the cluster keeps serving', async () => {
    cluster = new TestCluster();
    const head = await cluster.startHead({ numCpus: 2 });
    const dir = makeUserProject(cluster);
    const run = await runDriver(cluster, dir, `
      import * as ray from 'rayts';
      await ray.init({ address: 'auto' });
      const errors = {};
      const catching = async (key, fn) => { try { await fn(); errors[key] = 'no error'; } catch (e) { errors[key] = { name: e.name, message: e.message, hint: e.hint, cause: e.cause?.message }; } };
      const Counter = ray.remote(class Counter { n = 0; inc() { return ++this.n; } });
      const c = Counter.remote();
      await catching('method', () => c.decrement.remote());
      const Broken = ray.remote(class Broken { constructor(x) { throw new RangeError('bad start value ' + x); } f() { return 1; } });
      const b = Broken.remote(42);
      await catching('ctor', () => ray.get(b.f.remote()));
      await catching('ctorAgain', () => ray.get(b.f.remote()));
      const first = Counter.options({ name: 'dup', namespace: 'ns' }).remote();
      await ray.get(first.inc.remote());
      const second = Counter.options({ name: 'dup', namespace: 'ns' }).remote();
      await catching('duplicate', () => ray.get(second.inc.remote()));
      await catching('badOption', () => Counter.options({ maxConcurrency: 0 }).remote());
      await catching('negativeCpu', () => Counter.options({ numCpus: -1 }).remote());
      const stillServing = await ray.get(first.inc.remote());
      ${NO_LEAK}
      await ray.shutdown();
      console.log('RESULT ' + JSON.stringify({ errors, stillServing, leak }));
    `);
    expect(run.code, run.stderr).toBe(0);
    const { errors, stillServing, leak } = resultOf(run);
    expect(errors.method.name).toBe('ActorMethodNotFoundError');
    expect(errors.method.message).toContain("Counter has no method 'decrement'");
    expect(errors.method.hint).toContain('inc');
    expect(errors.ctor.name).toBe('ActorDiedError');
    expect(errors.ctor.message).toContain('RangeError: bad start value 42');
    expect(errors.ctor.cause).toBe('bad start value 42');
    expect(errors.ctorAgain.name).toBe('ActorDiedError');
    expect(errors.duplicate.message).toContain("an actor named 'dup' already exists in namespace 'ns'");
    expect(errors.badOption.name).toBe('ActorOptionsError');
    expect(errors.negativeCpu.name).toBe('ActorOptionsError');
    expect(stillServing).toBe(2);
    expect(leak.availableCpu).toBe(leak.totalCpu);
    const status = await cluster.statusJson(head.tempDir);
    expect(status.nodes.active.length).toBe(1);
  });
});
