/**
 * Task events of this process (Ray's TaskEventBuffer): the state changes of the attempts it owns
 * (submitted, sent to the raylet, their outcome) and of those it runs, sent to the head every
 * `taskEventsReportIntervalMs` and at `close()`.
 *
 * Recording is on the task path, so it is cheap: an owner's event takes one slot of a ring of columns
 * (typed arrays and reference arrays, no object per event), grown by doubling up to
 * `taskEventsBufferMaxEvents`; a full ring drops its oldest event and counts it, and the count goes
 * with the next report the head accepts. Grouping events per attempt and encoding them
 * (event_report.ts, task_event_codec.ts) happen at the report, off the task path.
 *
 * An attempt this worker runs is tracked while it runs (`track`/`untrack`: one map entry, its
 * AttemptRun filled by the executor) and reported only if a report finds it still running. Its end
 * goes back to its owner inside the outcome (`TaskOutcome.run`: times, worker, log offsets) and the
 * owner reports it, so it is not lost when the worker is SIGKILLed right after (reaped, its job ended).
 * For the same reason a worker reports what it owns (tasks its tasks submitted) soon after each
 * attempt ends (`attemptEnded`, at most every `taskEventsReportIntervalMs / 20`).
 */
import { InvalidRequestError, MAX_TASK_EVENTS_PER_CALL, TASK_STATES, encodeTaskEvents, type AddTaskEventsRequest, type AttemptEvents, type Config, type TaskInfo } from '@rayts/common';
import { buildReport, EventKind, type EventColumns, type ExecutorIdentity, type OutcomeEnd, type OwnerFailure, type TrackedAttempt } from './event_report.js';
import type { AttemptRun, TaskOutcome } from './protocol/messages.js';

/** Where reports go: the head's TaskEventService (TaskEventClient). */
export interface TaskEventSender {
  /** Rejects with InvalidRequestError when the head refuses the batch, with another error when it did not get it. */
  addTaskEvents(request: AddTaskEventsRequest, timeoutMs?: number): Promise<void>;
}

export type TaskEventBufferConfig = Pick<Config, 'taskEventsEnabled' | 'taskEventsReportIntervalMs' | 'taskEventsBufferMaxEvents' | 'taskEventsFlushTimeoutMs'>;

/** What the owner of tasks reports: submission, the way to a node, and how each attempt ended. */
export interface OwnerTaskEvents {
  /** A new attempt, waiting for its arguments (PENDING_ARGS_AVAIL), and what the task is. */
  submitted(taskId: string, attempt: number, jobId: string, info: TaskInfo): void;
  /** Its arguments are ready and it went to the raylet (PENDING_NODE_ASSIGNMENT). */
  sentToRaylet(taskId: string, attempt: number, jobId: string): void;
  /** The attempt's outcome came back: FINISHED, or FAILED with its error; the run's times and place with it. */
  outcome(jobId: string, outcome: TaskOutcome): void;
  /** The attempt failed without an outcome (cancelled, arguments failed, actor died, worker lost). */
  failed(taskId: string, attempt: number, jobId: string, failure: OwnerFailure): void;
}

/** What the process running an attempt reports (its node, worker id and pid come with it). */
export interface ExecutorTaskEvents {
  readonly enabled: boolean;
  /** An attempt is here: SUBMITTED_TO_WORKER at `run.receivedMs`, RUNNING once `run.startMs` is set; reported while it runs. */
  track(taskId: string, attempt: number, jobId: string, run: AttemptRun): void;
  /** Its outcome left for its owner (who reports it from now on), or it went back to the raylet. */
  untrack(taskId: string): void;
  /** An attempt ended here: what this worker owns is reported soon (see above). */
  attemptEnded(): void;
  /** A state of an attempt whose outcome reaches no owner (an actor's creation, the driver task); offsets at a start (-1 = none). */
  executing(taskId: string, attempt: number, jobId: string, state: 'SUBMITTED_TO_WORKER' | 'RUNNING', timeMs: number, stdoutAt: number, stderrAt: number, info?: TaskInfo): void;
  /** The end of such an attempt; offsets at its end. */
  ended(taskId: string, attempt: number, jobId: string, state: 'FINISHED' | 'FAILED', timeMs: number, stdoutAt: number, stderrAt: number, error?: OwnerFailure): void;
  /** Report now. */
  flush(): Promise<void>;
}

const STATE_CODE: Record<string, number> = Object.fromEntries(TASK_STATES.map((s, i) => [s, i]));
const INITIAL_SLOTS = 1024;
/** Attempts per AddTaskEvents call: a report of a busy second goes in several calls, so the head never stalls long on one. */
const ATTEMPTS_PER_CALL = Math.min(2_000, MAX_TASK_EVENTS_PER_CALL);

/** A report that did not reach the head, kept for the next one. */
interface Unsent { bytes: Buffer; events: number }

export class TaskEventBuffer implements OwnerTaskEvents, ExecutorTaskEvents {
  readonly enabled: boolean;
  private readonly capacity: number;
  private cols: EventColumns;
  private head = 0;
  private count = 0;
  private readonly tracked = new Map<string, TrackedAttempt>();
  /** Events dropped since the last report the head accepted. */
  private dropped = 0;
  private unsent: Unsent[] = [];
  private inFlight?: Promise<void>;
  private readonly timer?: NodeJS.Timeout;
  private soon?: NodeJS.Timeout;
  private lastReportAt = -Infinity;
  /** Owner events wait in the ring (a worker reports them soon after an attempt ends). */
  private ownerPending = false;
  private warnedRejected = false;
  private closed = false;

  constructor(private readonly sender: TaskEventSender, private readonly config: TaskEventBufferConfig, private readonly self: ExecutorIdentity) {
    this.enabled = config.taskEventsEnabled;
    if (!(config.taskEventsBufferMaxEvents >= 1)) throw new RangeError(`RAYTS_TASK_EVENTS_BUFFER_MAX_EVENTS must be at least 1, got ${config.taskEventsBufferMaxEvents}`);
    if (!(config.taskEventsReportIntervalMs >= 1)) throw new RangeError(`RAYTS_TASK_EVENTS_REPORT_INTERVAL_MS must be at least 1, got ${config.taskEventsReportIntervalMs}`);
    this.capacity = config.taskEventsBufferMaxEvents;
    this.cols = newColumns(this.enabled ? Math.min(INITIAL_SLOTS, this.capacity) : 0);
    if (this.enabled) {
      this.timer = setInterval(() => { if (!this.inFlight && this.hasNews()) void this.flush(); }, config.taskEventsReportIntervalMs);
      this.timer.unref();
    }
  }

  /** Events in the ring and in unsent reports (what a report would carry, besides running attempts). */
  get pending(): number {
    return this.count + this.unsent.reduce((n, u) => n + u.events, 0);
  }

  // ---- owner side ------------------------------------------------------------------------------

  submitted(taskId: string, attempt: number, jobId: string, info: TaskInfo): void {
    if (this.enabled) this.push(EventKind.Owner, STATE_CODE.PENDING_ARGS_AVAIL!, taskId, attempt, jobId, Date.now(), -1, -1, info);
  }

  sentToRaylet(taskId: string, attempt: number, jobId: string): void {
    if (this.enabled) this.push(EventKind.Owner, STATE_CODE.PENDING_NODE_ASSIGNMENT!, taskId, attempt, jobId, Date.now(), -1, -1, undefined);
  }

  outcome(jobId: string, outcome: TaskOutcome): void {
    if (!this.enabled) return;
    // Not the outcome itself: its value (and the frame it came in) must not live until the report.
    const f = outcome.failure;
    const ended: OutcomeEnd = { nodeId: outcome.nodeId, run: outcome.run, failure: f };
    this.push(EventKind.Outcome, f ? STATE_CODE.FAILED! : STATE_CODE.FINISHED!, outcome.taskId, outcome.attempt, jobId, Date.now(), -1, -1, ended);
  }

  failed(taskId: string, attempt: number, jobId: string, failure: OwnerFailure): void {
    if (this.enabled) this.push(EventKind.Owner, STATE_CODE.FAILED!, taskId, attempt, jobId, Date.now(), -1, -1, failure);
  }

  // ---- executor side ---------------------------------------------------------------------------

  track(taskId: string, attempt: number, jobId: string, run: AttemptRun): void {
    if (this.enabled) this.tracked.set(taskId, { taskId, attempt, jobId, run, reported: 0 });
  }

  untrack(taskId: string): void {
    this.tracked.delete(taskId);
  }

  attemptEnded(): void {
    if (!this.ownerPending || this.soon || this.closed) return;
    const wait = Math.max(0, this.lastReportAt + this.config.taskEventsReportIntervalMs / 20 - Date.now());
    this.soon = setTimeout(() => {
      this.soon = undefined;
      void this.flush();
    }, wait);
    this.soon.unref();
  }

  executing(taskId: string, attempt: number, jobId: string, state: 'SUBMITTED_TO_WORKER' | 'RUNNING', timeMs: number, stdoutAt: number, stderrAt: number, info?: TaskInfo): void {
    if (this.enabled) this.push(EventKind.Executor, STATE_CODE[state]!, taskId, attempt, jobId, timeMs, stdoutAt, stderrAt, info);
  }

  ended(taskId: string, attempt: number, jobId: string, state: 'FINISHED' | 'FAILED', timeMs: number, stdoutAt: number, stderrAt: number, error?: OwnerFailure): void {
    if (this.enabled) this.push(EventKind.Executor, STATE_CODE[state]!, taskId, attempt, jobId, timeMs, stdoutAt, stderrAt, error);
  }

  // ---- reports ---------------------------------------------------------------------------------

  /** Sends what is buffered (after any report in flight); resolves when done, also when it failed (kept for the next). */
  flush(): Promise<void> {
    if (!this.enabled) return Promise.resolve();
    if (this.inFlight) return this.inFlight.then(() => this.flush());
    const run = this.report().finally(() => { this.inFlight = undefined; });
    this.inFlight = run;
    return run;
  }

  /**
   * Stops the timers and sends what is left, waiting at most `taskEventsFlushTimeoutMs` (driver
   * shutdown, worker exit). Events recorded afterwards are not sent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.stop();
    if (!this.enabled) return;
    let timeout: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => { timeout = setTimeout(resolve, this.config.taskEventsFlushTimeoutMs); });
    await Promise.race([this.flush(), deadline]);
    clearTimeout(timeout);
  }

  /** Stops the timers without sending (the process is going away now). */
  stop(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.soon) clearTimeout(this.soon);
  }

  private hasNews(): boolean {
    if (this.count > 0 || this.unsent.length > 0 || this.dropped > 0) return true;
    for (const t of this.tracked.values()) if (t.reported < (t.run.startMs ? 2 : 1)) return true;
    return false;
  }

  private push(kind: EventKind, state: number, taskId: string, attempt: number, jobId: string, timeMs: number, a: number, b: number, extra: unknown): void {
    let c = this.cols;
    if (this.count === c.size && c.size < this.capacity) c = this.grow();
    let slot: number;
    if (this.count < c.size) {
      slot = this.head + this.count;
      if (slot >= c.size) slot -= c.size;
      this.count += 1;
    } else {
      // Full: the oldest event goes, counted.
      slot = this.head;
      this.head = slot + 1 === c.size ? 0 : slot + 1;
      this.dropped += 1;
    }
    c.kind[slot] = kind;
    c.state[slot] = state;
    c.taskId[slot] = taskId;
    c.attempt[slot] = attempt;
    c.jobId[slot] = jobId;
    c.time[slot] = timeMs;
    c.a[slot] = a;
    c.b[slot] = b;
    c.extra[slot] = extra;
    if (kind !== EventKind.Executor) this.ownerPending = true;
  }

  private grow(): EventColumns {
    const old = this.cols;
    const next = newColumns(Math.min(old.size * 2, this.capacity));
    for (let i = 0; i < this.count; i++) copySlot(old, (this.head + i) % old.size, next, i);
    this.cols = next;
    this.head = 0;
    return next;
  }

  /** Takes the ring's events and what is new of the running attempts out, as records per attempt. */
  private drain(): AttemptEvents[] {
    const c = this.cols;
    const order: number[] = new Array(this.count);
    for (let i = 0; i < this.count; i++) order[i] = (this.head + i) % c.size;
    const records = buildReport(c, order, this.tracked.values(), this.self);
    for (const slot of order) c.extra[slot] = undefined; // let outcomes and infos go
    this.head = 0;
    this.count = 0;
    this.ownerPending = false;
    return records;
  }

  private async report(): Promise<void> {
    this.lastReportAt = Date.now();
    const records = this.drain();
    for (let at = 0; at < records.length; at += ATTEMPTS_PER_CALL) {
      const chunk = records.slice(at, at + ATTEMPTS_PER_CALL);
      this.unsent.push({ bytes: encodeTaskEvents(chunk), events: chunk.reduce((n, r) => n + Math.max(1, r.transitions.length), 0) });
    }
    this.bound();
    if (this.unsent.length === 0 && this.dropped > 0) this.unsent.push({ bytes: Buffer.alloc(0), events: 0 });
    while (this.unsent.length > 0) {
      const next = this.unsent[0]!;
      const dropped = this.dropped;
      try {
        await this.sender.addTaskEvents({ events: next.bytes, numDropped: dropped });
        this.dropped -= dropped;
      } catch (err) {
        if (!(err instanceof InvalidRequestError)) return; // kept: sent again with the next report
        // Retrying cannot help: the events are lost, and counted.
        this.dropped += next.events;
        if (!this.warnedRejected) {
          this.warnedRejected = true;
          process.stderr.write(`rayts: the head refused task events (${err.message}); they are dropped and counted\n`);
        }
      }
      this.unsent.shift();
    }
  }

  /** Unsent reports beyond the buffer's bound go, oldest first, counted. */
  private bound(): void {
    let total = this.unsent.reduce((n, u) => n + u.events, 0);
    while (this.unsent.length > 1 && total > this.capacity) {
      const gone = this.unsent.shift()!;
      total -= gone.events;
      this.dropped += gone.events;
    }
  }
}

function newColumns(size: number): EventColumns {
  return {
    size,
    kind: new Uint8Array(size), state: new Uint8Array(size), attempt: new Uint32Array(size),
    time: new Float64Array(size), a: new Float64Array(size), b: new Float64Array(size),
    taskId: new Array<string>(size), jobId: new Array<string>(size), extra: new Array<unknown>(size),
  };
}

function copySlot(from: EventColumns, i: number, to: EventColumns, j: number): void {
  to.kind[j] = from.kind[i]!;
  to.state[j] = from.state[i]!;
  to.attempt[j] = from.attempt[i]!;
  to.time[j] = from.time[i]!;
  to.a[j] = from.a[i]!;
  to.b[j] = from.b[i]!;
  to.taskId[j] = from.taskId[i]!;
  to.jobId[j] = from.jobId[i]!;
  to.extra[j] = from.extra[i];
}
