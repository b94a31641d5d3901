/**
 * The raylet's memory monitor (Ray's MemoryMonitor with its worker killing policy): every
 * `refreshMs` it reads the node's memory; above `threshold` (a fraction of the node's total) it
 * kills one worker (victim_policy.ts) and waits until that worker is dead before it looks again,
 * so one burst of memory costs one worker, not a kill storm. The killed task fails with
 * OutOfMemoryError (the message built here travels to its owner, which retries it within its OOM
 * budget); the raylet logs a warning per kill with the same facts.
 */
import { formatBytes, type Logger } from '@rayts/common';
import { MemoryMonitorConfigError } from '../errors.js';
import type { MemorySnapshot } from './node_memory.js';
import { pickVictim, type WorkerCandidate } from './victim_policy.js';

/** STOPPED: not started, stopped, or disabled (refresh 0); WATCHING: reading memory every tick; KILLING: a victim was signalled and has not exited yet. */
export type MonitorState = 'STOPPED' | 'WATCHING' | 'KILLING';

/** One kill, as the owner's error, `rayts status` and the log tell it. */
export interface OomKill {
  workerId: string;
  pid: number;
  taskName: string;
  taskId: string;
  actorId?: string;
  usedBytes: number;
  totalBytes: number;
  /** The worker's resident memory when it was picked. */
  rssBytes: number;
  threshold: number;
  /** The text of the OutOfMemoryError the task fails with. */
  message: string;
}

export interface MemoryMonitorConfig {
  /** 0 disables the monitor. */
  refreshMs: number;
  /** Kill when used / total exceeds this (0 < threshold ≤ 1). */
  threshold: number;
}

export interface MemoryMonitorDeps {
  reader: { read(): MemorySnapshot | undefined };
  /** The workers that run something now, and whether a worker is still alive (still in the pool). */
  workers: { running(): WorkerCandidate[]; isAlive(workerId: string): boolean };
  /** A process's resident memory in bytes (0 when gone). */
  rssOf(pid: number): number;
  /** Kills the worker's process group; its exit fails what it ran with `kill.message` as an OutOfMemoryError. */
  kill(kill: OomKill): void;
  node: { nodeId: string; nodeIp: string };
  logger: Logger;
  config: MemoryMonitorConfig;
}

export class MemoryMonitor {
  private state: MonitorState = 'STOPPED';
  private timer?: NodeJS.Timeout;
  /** The worker being killed (KILLING). */
  private victim?: OomKill;
  private readonly kills: OomKill[] = [];
  /** Kills since the raylet started (history() keeps only the newest 100). */
  private readonly killTotals = { tasks: 0, actors: 0 };
  private unreadableLogged = false;

  constructor(private readonly deps: MemoryMonitorDeps) {
    const { refreshMs, threshold } = deps.config;
    if (!Number.isInteger(refreshMs) || refreshMs < 0) {
      throw new MemoryMonitorConfigError(`RAYTS_MEMORY_MONITOR_REFRESH_MS=${refreshMs} is not a whole number of milliseconds ≥ 0`, 'use e.g. 250 (Ray\'s default), or 0 to disable the memory monitor');
    }
    if (!(threshold > 0 && threshold <= 1)) {
      throw new MemoryMonitorConfigError(`RAYTS_MEMORY_USAGE_THRESHOLD=${threshold} is not a fraction of the node's memory in (0, 1]`, 'use e.g. 0.95 (Ray\'s default): workers are killed when more than 95 % of the memory is used');
    }
  }

  get currentState(): MonitorState {
    return this.state;
  }

  /** The newest kills (at most 100), oldest first. */
  history(): readonly OomKill[] {
    return this.kills;
  }

  /** Workers killed since the raylet started: those running a task, and those hosting an actor (for the node's metrics). */
  killCounts(): { tasks: number; actors: number } {
    return { ...this.killTotals };
  }

  start(): void {
    if (this.deps.config.refreshMs === 0) {
      this.deps.logger.info('memory monitor disabled (RAYTS_MEMORY_MONITOR_REFRESH_MS=0)');
      return;
    }
    if (this.state !== 'STOPPED') return;
    this.state = 'WATCHING';
    this.timer = setInterval(() => this.tick(), this.deps.config.refreshMs);
    this.timer.unref();
    const now = this.deps.reader.read();
    this.deps.logger.info('memory monitor started', {
      threshold: this.deps.config.threshold, refreshMs: this.deps.config.refreshMs, source: now?.source, usedBytes: now?.usedBytes, totalBytes: now?.totalBytes,
    });
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.state = 'STOPPED';
  }

  /** One look at the node's memory (the timer's body; tests call it directly). */
  tick(): void {
    if (this.state === 'KILLING') {
      if (this.victim && this.deps.workers.isAlive(this.victim.workerId)) return;
      this.victim = undefined;
      this.state = 'WATCHING';
    }
    if (this.state !== 'WATCHING') return;
    const memory = this.deps.reader.read();
    if (!memory) {
      if (!this.unreadableLogged) this.deps.logger.warn('memory monitor cannot read the node\'s memory (no cgroup limit and no /proc/meminfo); it kills nothing');
      this.unreadableLogged = true;
      return;
    }
    if (memory.usedBytes / memory.totalBytes <= this.deps.config.threshold) return;
    const victim = pickVictim(this.deps.workers.running());
    if (!victim) return;
    const kill = this.describe(victim, memory);
    this.victim = kill;
    this.state = 'KILLING';
    this.kills.push(kill);
    if (kill.actorId) this.killTotals.actors += 1;
    else this.killTotals.tasks += 1;
    if (this.kills.length > 100) this.kills.shift();
    this.deps.logger.warn('memory monitor killed a worker: the node is low on memory', {
      workerId: kill.workerId, pid: kill.pid, task: kill.taskName, taskId: kill.taskId, actorId: kill.actorId, retriable: victim.retriable,
      usedBytes: kill.usedBytes, totalBytes: kill.totalBytes, rssBytes: kill.rssBytes, threshold: kill.threshold, source: memory.source,
      nodeId: this.deps.node.nodeId, nodeIp: this.deps.node.nodeIp,
    });
    this.deps.kill(kill);
  }

  private describe(victim: WorkerCandidate, memory: MemorySnapshot): OomKill {
    const { threshold } = this.deps.config;
    const rssBytes = this.deps.rssOf(victim.pid);
    const { nodeId, nodeIp } = this.deps.node;
    const what = victim.actorId ? `actor ${victim.taskName} (actor ID: ${victim.actorId})` : `task ${victim.taskName} (task ID: ${victim.taskId})`;
    const retry = victim.retriable
      ? 'A task is retried for this up to RAYTS_TASK_OOM_RETRIES times (default 15, apart from its maxRetries), an actor within its maxRestarts; once those are spent, this error is final.'
      : 'It had no retries: set maxRetries (tasks) or maxRestarts (actors) above 0 to have it retried when it is killed for memory.';
    const message = `${what} was killed because the node ran low on memory. Memory on the node (IP: ${nodeIp}, ID: ${nodeId}) `
      + `where the worker (pid=${victim.pid}, ID: ${victim.workerId}, memory used=${formatBytes(rssBytes)}) was running was `
      + `${formatBytes(memory.usedBytes)} / ${formatBytes(memory.totalBytes)} (${(memory.usedBytes / memory.totalBytes).toFixed(3)}, read from ${memory.source}), `
      + `which exceeds the memory usage threshold of ${threshold}. rayts killed this worker because it was the most recently started `
      + `${victim.retriable ? 'retriable' : 'non-retriable (no retriable one was running)'} one. ${retry} `
      + 'To avoid it: reduce parallelism (request more CPUs per task, numCpus, so fewer run at once), use less memory per task, '
      + 'or add memory to the node. The raylet log (`rayts logs raylet.log`) lists every kill. To change the threshold set '
      + 'RAYTS_MEMORY_USAGE_THRESHOLD when starting rayts; RAYTS_MEMORY_MONITOR_REFRESH_MS=0 disables the monitor.';
    return {
      workerId: victim.workerId, pid: victim.pid, taskName: victim.taskName, taskId: victim.taskId, ...(victim.actorId ? { actorId: victim.actorId } : {}),
      usedBytes: memory.usedBytes, totalBytes: memory.totalBytes, rssBytes, threshold, message,
    };
  }
}
