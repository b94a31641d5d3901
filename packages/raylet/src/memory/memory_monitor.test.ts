/** The victim policy and the MemoryMonitor over fakes: who is killed, one at a time, what the error says. */
import { afterEach, describe, expect, it } from 'vitest';
import { nullLogger, type Logger } from '@rayts/common';
import { MemoryMonitorConfigError } from '../errors.js';
import { MemoryMonitor, type OomKill } from './memory_monitor.js';
import { pickVictim, type WorkerCandidate } from './victim_policy.js';

const GIB = 1024 ** 3;

function worker(workerId: string, startedAtMs: number, retriable: boolean, actorId?: string): WorkerCandidate {
  return { workerId, pid: 1000 + startedAtMs, startedAtMs, retriable, taskName: actorId ? 'Counter' : `task_${workerId}`, taskId: actorId ? '' : `t_${workerId}`, ...(actorId ? { actorId } : {}) };
}

describe('pickVictim', () => {
  it('the newest retriable first, then the newest non-retriable', () => {
    const old = worker('old', 1, true);
    const newest = worker('newest', 9, false);
    const mid = worker('mid', 5, true);
    expect(pickVictim([old, newest, mid])).toBe(mid);
    expect(pickVictim([newest, worker('older', 2, false)])).toBe(newest);
    expect(pickVictim([worker('a', 3, false), worker('actor', 4, true, 'act1')])?.workerId).toBe('actor');
    expect(pickVictim([])).toBeUndefined();
  });
});

const stops: (() => void)[] = [];
afterEach(() => { for (const stop of stops.splice(0)) stop(); });

function setup(threshold = 0.9) {
  let used = 5 * GIB;
  const total = 10 * GIB;
  const running: WorkerCandidate[] = [];
  const alive = new Set<string>();
  const kills: OomKill[] = [];
  const warnings: { msg: string; fields?: Record<string, unknown> }[] = [];
  const logger: Logger = { ...nullLogger, warn: (msg, fields) => warnings.push({ msg, fields }) };
  const monitor = new MemoryMonitor({
    reader: { read: () => ({ usedBytes: used, totalBytes: total, source: '/proc/meminfo' }) },
    workers: { running: () => running.filter((w) => alive.has(w.workerId)), isAlive: (id) => alive.has(id) },
    rssOf: () => 3 * GIB,
    kill: (k) => kills.push(k),
    node: { nodeId: 'n'.repeat(56), nodeIp: '10.0.0.7' },
    logger,
    // The timer does not fire within a test: the test ticks.
    config: { refreshMs: 3_600_000, threshold },
  });
  monitor.start();
  stops.push(() => monitor.stop());
  const add = (w: WorkerCandidate) => { running.push(w); alive.add(w.workerId); };
  return { monitor, kills, warnings, add, alive, setUsed: (bytes: number) => { used = bytes; } };
}

describe('MemoryMonitor', () => {
  it('kills nothing at or below the threshold', () => {
    const t = setup();
    t.add(worker('a', 1, true));
    t.setUsed(9 * GIB);
    t.monitor.tick();
    expect(t.kills).toEqual([]);
    t.setUsed(9.01 * GIB);
    t.monitor.tick();
    expect(t.kills).toHaveLength(1);
  });

  it('disabled with refresh 0: never starts', () => {
    const monitor = new MemoryMonitor({
      reader: { read: () => ({ usedBytes: 10, totalBytes: 10, source: '/proc/meminfo' }) }, workers: { running: () => [worker('a', 1, true)], isAlive: () => true },
      rssOf: () => 0, kill: () => { throw new Error('must not kill'); }, node: { nodeId: 'n', nodeIp: 'i' }, logger: nullLogger, config: { refreshMs: 0, threshold: 0.5 },
    });
    monitor.start();
    monitor.tick();
    expect(monitor.currentState).toBe('STOPPED');
  });

  it('kills one worker at a time: the next only after the previous one is dead', () => {
    const t = setup();
    t.add(worker('old', 1, true));
    t.add(worker('new', 2, true));
    t.add(worker('nonretriable', 3, false));
    t.setUsed(9.5 * GIB);
    t.monitor.tick();
    expect(t.kills.map((k) => k.workerId)).toEqual(['new']);
    expect(t.monitor.currentState).toBe('KILLING');
    // Still alive: no second kill however high the memory stays.
    t.monitor.tick();
    t.monitor.tick();
    expect(t.kills).toHaveLength(1);
    t.alive.delete('new');
    t.monitor.tick();
    expect(t.kills.map((k) => k.workerId)).toEqual(['new', 'old']);
    t.alive.delete('old');
    t.monitor.tick();
    expect(t.kills.map((k) => k.workerId)).toEqual(['new', 'old', 'nonretriable']);
    t.alive.delete('nonretriable');
    t.setUsed(2 * GIB);
    t.monitor.tick();
    expect(t.monitor.currentState).toBe('WATCHING');
    expect(t.monitor.history()).toHaveLength(3);
    expect(t.monitor.killCounts()).toEqual({ tasks: 3, actors: 0 });
  });

  it('the error names the node, the memory, the threshold, the worker and what to do; the log says the same', () => {
    const t = setup(0.9);
    t.add(worker('w1', 1, true));
    t.setUsed(9.5 * GIB);
    t.monitor.tick();
    const [k] = t.kills;
    expect(k).toMatchObject({ workerId: 'w1', pid: 1001, taskName: 'task_w1', usedBytes: 9.5 * GIB, totalBytes: 10 * GIB, rssBytes: 3 * GIB, threshold: 0.9 });
    for (const part of ['10.0.0.7', 'n'.repeat(56), '9.50GiB / 10.00GiB', 'threshold of 0.9', 'pid=1001', 'task_w1', 'memory used=3.00GiB', 'reduce parallelism', 'add memory']) {
      expect(k!.message).toContain(part);
    }
    expect(t.warnings).toHaveLength(1);
    expect(t.warnings[0]!.fields).toMatchObject({ pid: 1001, task: 'task_w1', usedBytes: 9.5 * GIB, totalBytes: 10 * GIB, threshold: 0.9, nodeIp: '10.0.0.7' });
  });

  it('with nothing running, kills nothing', () => {
    const t = setup();
    t.setUsed(10 * GIB);
    t.monitor.tick();
    expect(t.kills).toEqual([]);
    expect(t.monitor.currentState).toBe('WATCHING');
  });

  it('refuses a threshold outside (0, 1] and a negative refresh, saying what to use', () => {
    const make = (refreshMs: number, threshold: number) => () => new MemoryMonitor({
      reader: { read: () => undefined }, workers: { running: () => [], isAlive: () => false }, rssOf: () => 0, kill: () => undefined,
      node: { nodeId: 'n', nodeIp: 'i' }, logger: nullLogger, config: { refreshMs, threshold },
    });
    expect(make(250, 1.5)).toThrow(MemoryMonitorConfigError);
    expect(make(250, 0)).toThrow(/RAYTS_MEMORY_USAGE_THRESHOLD=0 .*\(0, 1\]/);
    expect(make(-1, 0.95)).toThrow(/RAYTS_MEMORY_MONITOR_REFRESH_MS=-1/);
    expect(make(0, 0.95)).not.toThrow();
  });
});
