/**
 * Task events of this process (Ray's TaskEventBuffer): the state changes of the attempts it owns
 * (submitted, sent to the raylet, their outcome) and of those it runs, buffered and sent to the head
 * every `taskEventsReportIntervalMs`, and at `close()`.
 *
 * Recording is on the task path, so it is cheap: one slot of a ring of columns (typed arrays and
 * reference arrays, no object per event), grown by doubling up to `taskEventsBufferMaxEvents`. A
 * full ring drops its oldest event and counts it; the count goes with the next report that the head
 * accepts. Grouping events into one message per attempt and encoding happen at the report, off the
 * task path (event_report.ts).
 *
 * The executing worker hands the end of an attempt it ran to the owner with the outcome (its times,
 * worker and log offsets travel in `TaskOutcome.run`), so the owner reports it even when the worker
 * is SIGKILLed right after (reaped, its job ended). What the worker reports itself is what only it
 * sees while the attempt runs; `handedToOwner` drops that from the next report once the outcome left.
 */
import { InvalidRequestError, MAX_TASK_EVENTS_PER_CALL, TASK_STATES, type AddTaskEventsRequest, type Config, type TaskEventsMsg, type TaskState } from '@rayts/common';
import { buildReport, type EventColumns, EventKind, type ExecutorIdentity, type OwnerFailure, type TaskStaticInfo } from './event_report.js';
import type { TaskOutcome } from './protocol/messages.js';

export type { ExecutorIdentity, TaskStaticInfo } from './event_report.js';

/** Where reports go: the head's TaskEventService (TaskEventClient). */
export interface TaskEventSender {
  /** Rejects with InvalidRequestError when the head refuses the batch, with another error when it did not get it. */
  addTaskEvents(request: AddTaskEventsRequest, timeoutMs?: number): Promise<void>;
}

export type TaskEventBufferConfig = Pick<Config, 'taskEventsEnabled' | 'taskEventsReportIntervalMs' | 'taskEventsBufferMaxEvents' | 'taskEventsFlushTimeoutMs'>;

/** What the owner of tasks reports: submission, the way to a node, and how each attempt ended. */
export interface OwnerTaskEvents {
  /** A new attempt, waiting for its arguments (PENDING_ARGS_AVAIL), and what the task is. */
  submitted(taskId: string, attempt: number, jobId: string, info: TaskStaticInfo): void;
  /** Its arguments are ready and it went to the raylet (PENDING_NODE_ASSIGNMENT). */
  sentToRaylet(taskId: string, attempt: number, jobId: string): void;
  /** The attempt's outcome came back: FINISHED, or FAILED with its error; the run's times and place with it. */
  outcome(jobId: string, outcome: TaskOutcome): void;
  /** The attempt failed without an outcome (cancelled, arguments failed, actor died, worker lost). */
  failed(taskId: string, attempt: number, jobId: string, failure: OwnerFailure): void;
}

/** What the process running an attempt reports (its node, worker id, pid and log files come with it). */
export interface ExecutorTaskEvents {
  readonly enabled: boolean;
  /** SUBMITTED_TO_WORKER or RUNNING; `stdoutAt`/`stderrAt`: log offsets at a start (-1 = none). */
  executing(taskId: string, attempt: number, jobId: string, state: 'SUBMITTED_TO_WORKER' | 'RUNNING', timeMs: number, stdoutAt: number, stderrAt: number, info?: TaskStaticInfo): void;
  /** The end of an attempt whose outcome reaches no owner (an actor's creation, the driver task). */
  ended(taskId: string, attempt: number, jobId: string, state: 'FINISHED' | 'FAILED', timeMs: number, stdoutAt: number, stderrAt: number, error?: OwnerFailure): void;
  /** The outcome went to the owner, which reports the attempt from now on. */
  handedToOwner(taskId: string, attempt: number): void;
  /** Report now (an actor's creation is rare and worth telling at once). */
  flush(): Promise<void>;
}

const STATE_CODE: Record<string, number> = Object.fromEntries(TASK_STATES.map((s, i) => [s, i]));
const INITIAL_SLOTS = 1024;

export class TaskEventBuffer implements OwnerTaskEvents, ExecutorTaskEvents {
  readonly enabled: boolean;
  private readonly capacity: number;
  private cols: EventColumns;
  private head = 0;
  private count = 0;
  /** Events dropped since the last report the head accepted. */
  private dropped = 0;
  /** Messages of a report that did not reach the head: sent first next time (bounded by capacity). */
  private retry: TaskEventsMsg[] = [];
  private inFlight?: Promise<void>;
  private readonly timer?: NodeJS.Timeout;
  private warnedRejected = false;
  private closed = false;

  constructor(private readonly sender: TaskEventSender, private readonly config: TaskEventBufferConfig, private readonly self: ExecutorIdentity) {
    this.enabled = config.taskEventsEnabled;
    if (!(config.taskEventsBufferMaxEvents >= 1)) throw new RangeError(`RAYTS_TASK_EVENTS_BUFFER_MAX_EVENTS must be at least 1, got ${config.taskEventsBufferMaxEvents}`);
    if (!(config.taskEventsReportIntervalMs >= 1)) throw new RangeError(`RAYTS_TASK_EVENTS_REPORT_INTERVAL_MS must be at least 1, got ${config.taskEventsReportIntervalMs}`);
    this.capacity = config.taskEventsBufferMaxEvents;
    this.cols = newColumns(this.enabled ? Math.min(INITIAL_SLOTS, this.capacity) : 0);
    if (this.enabled) {
      this.timer = setInterval(() => { if (!this.inFlight && (this.count > 0 || this.retry.length > 0 || this.dropped > 0)) void this.flush(); }, config.taskEventsReportIntervalMs);
      this.timer.unref();
    }
  }

  /** Events waiting for the next report (ring and retries); for tests and `rayts memory`-like views. */
  get pending(): number {
    return this.count + this.retry.length;
  }

  // ---- owner side ------------------------------------------------------------------------------

  submitted(taskId: string, attempt: number, jobId: string, info: TaskStaticInfo): void {
    if (this.enabled) this.push(EventKind.Owner, STATE_CODE.PENDING_ARGS_AVAIL!, taskId, attempt, jobId, Date.now(), -1, -1, info);
  }

  sentToRaylet(taskId: string, attempt: number, jobId: string): void {
    if (this.enabled) this.push(EventKind.Owner, STATE_CODE.PENDING_NODE_ASSIGNMENT!, taskId, attempt, jobId, Date.now(), -1, -1, undefined);
  }

  outcome(jobId: string, outcome: TaskOutcome): void {
    if (this.enabled) this.push(EventKind.Outcome, outcome.failure ? STATE_CODE.FAILED! : STATE_CODE.FINISHED!, outcome.taskId, outcome.attempt, jobId, Date.now(), -1, -1, outcome);
  }

  failed(taskId: string, attempt: number, jobId: string, failure: OwnerFailure): void {
    if (this.enabled) this.push(EventKind.Owner, STATE_CODE.FAILED!, taskId, attempt, jobId, Date.now(), -1, -1, failure);
  }

  // ---- executor side ---------------------------------------------------------------------------

  executing(taskId: string, attempt: number, jobId: string, state: 'SUBMITTED_TO_WORKER' | 'RUNNING', timeMs: number, stdoutAt: number, stderrAt: number, info?: TaskStaticInfo): void {
    if (this.enabled) this.push(EventKind.Executor, STATE_CODE[state]!, taskId, attempt, jobId, timeMs, stdoutAt, stderrAt, info);
  }

  ended(taskId: string, attempt: number, jobId: string, state: 'FINISHED' | 'FAILED', timeMs: number, stdoutAt: number, stderrAt: number, error?: OwnerFailure): void {
    if (this.enabled) this.push(EventKind.Executor, STATE_CODE[state]!, taskId, attempt, jobId, timeMs, stdoutAt, stderrAt, error);
  }

  handedToOwner(taskId: string, attempt: number): void {
    if (this.enabled) this.push(EventKind.Handed, 0, taskId, attempt, '', 0, -1, -1, undefined);
  }

  // ---- reports ---------------------------------------------------------------------------------

  /** Sends what is buffered (after any report in flight); resolves when done, also when it failed (kept for later). */
  flush(): Promise<void> {
    if (!this.enabled) return Promise.resolve();
    if (this.inFlight) return this.inFlight.then(() => this.flush());
    const run = this.report().finally(() => { this.inFlight = undefined; });
    this.inFlight = run;
    return run;
  }

  /**
   * Stops the timer and sends what is left, waiting at most `taskEventsFlushTimeoutMs` (driver
   * shutdown, worker exit). Events recorded afterwards are not sent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (!this.enabled) return;
    let timeout: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => { timeout = setTimeout(resolve, this.config.taskEventsFlushTimeoutMs); });
    await Promise.race([this.flush(), deadline]);
    clearTimeout(timeout);
  }

  /** Stops the timer without sending (the process is going away fast). */
  stop(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
  }

  private push(kind: EventKind, state: number, taskId: string, attempt: number, jobId: string, timeMs: number, a: number, b: number, extra: unknown): void {
    const c = this.cols;
    let slot: number;
    if (this.count < c.size) {
      slot = this.head + this.count;
      if (slot >= c.size) slot -= c.size;
      this.count += 1;
    } else if (c.size < this.capacity) {
      this.grow();
      return this.push(kind, state, taskId, attempt, jobId, timeMs, a, b, extra);
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
  }

  private grow(): void {
    const old = this.cols;
    const next = newColumns(Math.min(old.size * 2, this.capacity));
    for (let i = 0; i < this.count; i++) copySlot(old, (this.head + i) % old.size, next, i);
    this.cols = next;
    this.head = 0;
  }

  /** Takes the ring's events out as one message per attempt, in order of first event. */
  private drain(): TaskEventsMsg[] {
    const c = this.cols;
    const order: number[] = new Array(this.count);
    for (let i = 0; i < this.count; i++) order[i] = (this.head + i) % c.size;
    const messages = buildReport(c, order, this.self);
    for (const slot of order) c.extra[slot] = undefined; // let outcomes and infos go
    this.head = 0;
    this.count = 0;
    return messages;
  }

  private async report(timeoutMs?: number): Promise<void> {
    const messages = [...this.retry, ...this.drain()];
    this.retry = [];
    let dropped = this.dropped;
    this.dropped = 0;
    for (let at = 0; at < messages.length || dropped > 0; at += MAX_TASK_EVENTS_PER_CALL) {
      const chunk = messages.slice(at, at + MAX_TASK_EVENTS_PER_CALL);
      try {
        await this.sender.addTaskEvents({ events: chunk, numDropped: dropped }, timeoutMs);
        dropped = 0;
      } catch (err) {
        if (err instanceof InvalidRequestError) {
          // Retrying cannot help: the events are lost, and counted.
          this.dropped += dropped + eventsIn(chunk);
          dropped = 0;
          if (!this.warnedRejected) {
            this.warnedRejected = true;
            process.stderr.write(`rayts: the head refused ${chunk.length} task events (${err.message}); they are dropped and counted\n`);
          }
          continue;
        }
        this.keepForRetry(messages.slice(at), dropped);
        return;
      }
    }
  }

  /** What could not be sent waits for the next report; the oldest beyond the buffer's bound go (counted). */
  private keepForRetry(messages: TaskEventsMsg[], dropped: number): void {
    this.dropped += dropped;
    const over = messages.length + this.count - this.capacity;
    if (over > 0) {
      for (const m of messages.slice(0, over)) this.dropped += eventsIn([m]);
      messages = messages.slice(over);
    }
    this.retry = messages;
  }
}

function eventsIn(messages: TaskEventsMsg[]): number {
  return messages.reduce((n, m) => n + Math.max(1, m.transitions?.length ?? 0), 0);
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


