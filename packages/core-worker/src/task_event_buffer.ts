/**
 * Task events of this process (Ray's TaskEventBuffer): the state changes of the attempts it owns
 * (submitted, sent to the raylet, their outcome) and of those it runs, sent to the head every
 * `taskEventsReportIntervalMs` and at `close()`.
 *
 * Recording is on the task path, so it is cheap: an event writes a few cells of the attempt's slot in
 * the EventTable (columns, no object per event). An owner's attempt is written into the compact wire
 * form (task_event_codec.ts, through a scratch record) as soon as its outcome is in, and its slot
 * released (`encodeNow`); a report writes the slots left (attempts in flight, what this process runs)
 * the same way, in calls of at most ATTEMPTS_PER_CALL attempts. The table holds at most
 * `taskEventsBufferMaxEvents` events, and encoded reports are kept while they and the table stay
 * within it (the newest always stays); beyond that the oldest attempts' events are dropped and
 * counted, and the count goes with the next report the head accepts. A report that does not reach
 * the head is kept, within the same bound, and sent before the next one.
 *
 * An attempt this worker runs is tracked while it runs (`track`/`untrack`: one map entry, its
 * AttemptRun filled by the executor) and reported only if a report finds it still running. Its end
 * goes back to its owner inside the outcome (`TaskOutcome.run`: times, worker, log offsets) and the
 * owner reports it, so it is not lost when the worker is SIGKILLed right after (reaped, its job ended).
 * For the same reason a worker reports what it owns (tasks its tasks submitted) soon after each
 * attempt ends (`attemptEnded`, at most every `taskEventsReportIntervalMs / 20`).
 */
import { InvalidRequestError, MAX_TASK_EVENTS_PER_CALL, TaskEventsEncoder, UsageError, type AddTaskEventsRequest, type Config, type TaskInfo } from '@rayts/common';
import { EventTable, EXECUTOR, MAX_BUFFER_EVENTS, OWNER, STATE } from './event_table.js';
import { AttemptScratch, ownerFailure, type ExecutorIdentity, type OwnerFailure, type RunningAttempt } from './event_report.js';
import type { TaskOutcome } from './protocol/messages.js';

/** Where reports go: the head's TaskEventService (TaskEventClient). */
export interface TaskEventSender {
  /** Rejects with InvalidRequestError when the head refuses the batch, with another error when it did not get it. */
  addTaskEvents(request: AddTaskEventsRequest, timeoutMs?: number): Promise<void>;
}

export type TaskEventBufferConfig = Pick<Config, 'taskEventsEnabled' | 'taskEventsReportIntervalMs' | 'taskEventsBufferMaxEvents' | 'taskEventsFlushTimeoutMs'>;

/**
 * What the owner of tasks reports: submission, the way to a node, and how each attempt ended. Each
 * call returns a hint (a number naming the attempt's record): passed to the next call about the same
 * attempt, it finds the record without a lookup. A stale or absent hint (-1) only costs the lookup.
 */
export interface OwnerTaskEvents {
  /** A new attempt, waiting for its arguments (PENDING_ARGS_AVAIL), and what the task is. */
  submitted(taskId: string, attempt: number, jobId: string, info: TaskInfo): number;
  /** Its arguments are ready and it went to the raylet (PENDING_NODE_ASSIGNMENT). */
  sentToRaylet(taskId: string, attempt: number, jobId: string, hint?: number): number;
  /** The attempt's outcome came back: FINISHED, or FAILED with its error; the run's times and place with it. */
  outcome(jobId: string, outcome: TaskOutcome, hint?: number): number;
  /** The attempt failed without an outcome (cancelled, arguments failed, actor died, worker lost). */
  failed(taskId: string, attempt: number, jobId: string, failure: OwnerFailure, hint?: number): number;
}

/** What the process running an attempt reports (its node, worker id and pid come with it). */
export interface ExecutorTaskEvents {
  readonly enabled: boolean;
  /** An attempt is here: SUBMITTED_TO_WORKER at `receivedMs`, RUNNING once `startMs` is set; reported while it runs. */
  track(a: RunningAttempt): void;
  /** Its outcome left for its owner (who reports it from now on), or it went back to the raylet. */
  untrack(a: RunningAttempt): void;
  /** An attempt ended here: what this worker owns is reported soon (see above). */
  attemptEnded(): void;
  /** A state of an attempt whose outcome reaches no owner (an actor's creation, the driver task); offsets at a start (-1 = none). */
  executing(taskId: string, attempt: number, jobId: string, state: 'SUBMITTED_TO_WORKER' | 'RUNNING', timeMs: number, stdoutAt: number, stderrAt: number, info?: TaskInfo): void;
  /** The end of such an attempt; offsets at its end. */
  ended(taskId: string, attempt: number, jobId: string, state: 'FINISHED' | 'FAILED', timeMs: number, stdoutAt: number, stderrAt: number, error?: OwnerFailure): void;
  /** Report now. */
  flush(): Promise<void>;
}

/** Attempts per AddTaskEvents call: a report of a busy second goes in several calls, so the head never stalls long on one. */
const ATTEMPTS_PER_CALL = Math.min(2_000, MAX_TASK_EVENTS_PER_CALL);

/** A report that did not reach the head, kept for the next one. */
interface Unsent { bytes: Buffer; events: number }

export class TaskEventBuffer implements OwnerTaskEvents, ExecutorTaskEvents {
  readonly enabled: boolean;
  private readonly table: EventTable;
  private readonly tracked = new Set<RunningAttempt>();
  private readonly scratch: AttemptScratch;
  /** Attempts encoded already (an owner's, once their outcome is in), and their events: the next report starts with them. */
  private encoder = new TaskEventsEncoder();
  private encoderEvents = 0;
  /** Events dropped since the last report the head accepted. */
  private dropped = 0;
  private unsent: Unsent[] = [];
  private inFlight?: Promise<void>;
  private readonly timer?: NodeJS.Timeout;
  private soon?: NodeJS.Timeout;
  private lastReportAt = -Infinity;
  /** Owner events wait in the table (a worker reports them soon after an attempt ends). */
  private ownerPending = false;
  private warnedRejected = false;
  private closed = false;

  constructor(private readonly sender: TaskEventSender, private readonly config: TaskEventBufferConfig, self: ExecutorIdentity) {
    this.enabled = config.taskEventsEnabled;
    const max = config.taskEventsBufferMaxEvents;
    if (!(max >= 1 && max < MAX_BUFFER_EVENTS)) {
      throw new UsageError(`RAYTS_TASK_EVENTS_BUFFER_MAX_EVENTS=${max} is out of range`, `use 1..${MAX_BUFFER_EVENTS - 1} (default 100000)`);
    }
    if (!(config.taskEventsReportIntervalMs >= 1)) {
      throw new UsageError(`RAYTS_TASK_EVENTS_REPORT_INTERVAL_MS=${config.taskEventsReportIntervalMs} is out of range`, 'use a number of milliseconds from 1 up (default 1000)');
    }
    this.table = new EventTable(config.taskEventsBufferMaxEvents);
    this.scratch = new AttemptScratch(self);
    if (this.enabled) {
      this.timer = setInterval(() => { if (!this.inFlight && this.hasNews()) void this.flush(); }, config.taskEventsReportIntervalMs);
      this.timer.unref();
    }
  }

  /** Events waiting for the next report (in the table and in unsent reports), and those dropped since the last accepted one. */
  get stats(): { pending: number; dropped: number } {
    return { pending: this.table.pending + this.encoderEvents + this.unsent.reduce((n, u) => n + u.events, 0), dropped: this.dropped };
  }

  // ---- owner side ------------------------------------------------------------------------------

  submitted(taskId: string, attempt: number, jobId: string, info: TaskInfo): number {
    if (!this.enabled) return -1;
    const s = this.ownerSlot(taskId, attempt, jobId, -1);
    this.table.info[s] = info;
    return this.record(s, STATE.PENDING_ARGS_AVAIL, Date.now());
  }

  sentToRaylet(taskId: string, attempt: number, jobId: string, hint = -1): number {
    if (!this.enabled) return -1;
    return this.record(this.ownerSlot(taskId, attempt, jobId, hint), STATE.PENDING_NODE_ASSIGNMENT, Date.now());
  }

  outcome(jobId: string, o: TaskOutcome, hint = -1): number {
    if (!this.enabled) return -1;
    const t = this.table;
    const s = this.ownerSlot(o.taskId, o.attempt, jobId, hint);
    if (o.nodeId) t.nodeId[s] = o.nodeId;
    if (o.run) t.run[s] = o.run; // unpacked at the report, off the task path
    if (o.failure) {
      const f = ownerFailure(o.failure);
      t.errorType[s] = f.errorType;
      t.errorMessage[s] = f.message;
    }
    this.record(s, o.failure ? STATE.FAILED : STATE.FINISHED, Date.now());
    this.encodeNow(s);
    return -1;
  }

  failed(taskId: string, attempt: number, jobId: string, failure: OwnerFailure, hint = -1): number {
    if (!this.enabled) return -1;
    const t = this.table;
    const s = this.ownerSlot(taskId, attempt, jobId, hint);
    t.errorType[s] = failure.errorType;
    t.errorMessage[s] = failure.message;
    if (failure.nodeId) t.nodeId[s] = failure.nodeId;
    if (failure.workerId) t.workerId[s] = failure.workerId;
    if (failure.workerPid) t.workerPid[s] = failure.workerPid;
    this.record(s, STATE.FAILED, Date.now());
    this.encodeNow(s);
    return -1;
  }

  // ---- executor side ---------------------------------------------------------------------------

  track(a: RunningAttempt): void {
    if (this.enabled) this.tracked.add(a);
  }

  untrack(a: RunningAttempt): void {
    this.tracked.delete(a);
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
    if (!this.enabled) return;
    const t = this.table;
    const s = t.slot(EXECUTOR, taskId, attempt, jobId);
    if (info) t.info[s] = info;
    if (state === 'RUNNING') {
      t.offsets[s * 4] = stdoutAt;
      t.offsets[s * 4 + 2] = stderrAt;
    }
    this.record(s, STATE[state], timeMs);
  }

  ended(taskId: string, attempt: number, jobId: string, state: 'FINISHED' | 'FAILED', timeMs: number, stdoutAt: number, stderrAt: number, error?: OwnerFailure): void {
    if (!this.enabled) return;
    const t = this.table;
    const s = t.slot(EXECUTOR, taskId, attempt, jobId);
    t.offsets[s * 4 + 1] = stdoutAt;
    t.offsets[s * 4 + 3] = stderrAt;
    if (error) {
      t.errorType[s] = error.errorType;
      t.errorMessage[s] = error.message;
    }
    this.record(s, STATE[state], timeMs);
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

  private ownerSlot(taskId: string, attempt: number, jobId: string, hint: number): number {
    this.ownerPending = true;
    return this.table.slot(OWNER, taskId, attempt, jobId, hint);
  }

  /** Records the state in the slot; the slot's handle (for the next call's hint). */
  private record(slot: number, state: number, timeMs: number): number {
    const handle = this.table.handle(slot);
    this.table.time(slot, state, timeMs);
    const dropped = this.table.bound();
    this.dropped += dropped;
    return dropped > 0 ? -1 : handle;
  }

  /**
   * The owner's record of an attempt whose outcome is in is complete: encoded at once, its slot
   * released. So nothing of a finished task (its id, the run its outcome brought) stays in the heap
   * until the report (kept a second, thousands of them a second would outlive the young
   * generation's collections).
   */
  private encodeNow(slot: number): void {
    if (slot < 0) return;
    this.add(this.scratch.fromSlot(this.table, slot));
    this.table.release(slot);
  }

  /** Adds a record to the report being built; a full one waits in `unsent`. */
  private add(record: Parameters<TaskEventsEncoder['add']>[0] | undefined): void {
    if (!record) return;
    this.encoder.add(record);
    this.encoderEvents += Math.max(1, record.transitions.length);
    if (this.encoder.count >= ATTEMPTS_PER_CALL || this.encoderEvents >= this.config.taskEventsBufferMaxEvents) this.seal();
  }

  /** The report being built goes to `unsent`, within the buffer's bound. */
  private seal(): void {
    if (this.encoder.count === 0) return;
    this.unsent.push({ bytes: this.encoder.finish(), events: this.encoderEvents });
    this.encoder = new TaskEventsEncoder();
    this.encoderEvents = 0;
    this.bound();
  }

  private hasNews(): boolean {
    if (this.table.pending > 0 || this.encoderEvents > 0 || this.unsent.length > 0 || this.dropped > 0) return true;
    for (const t of this.tracked) if (t.reported < (t.startMs ? 2 : 1)) return true;
    return false;
  }

  /** Writes the table's slots and what is new of the running attempts into reports of ATTEMPTS_PER_CALL attempts. */
  private encode(): void {
    this.table.drain((slot) => this.add(this.scratch.fromSlot(this.table, slot)));
    for (const t of this.tracked) this.add(this.scratch.fromTracked(t));
    this.seal();
    this.ownerPending = false;
  }

  private async report(): Promise<void> {
    this.lastReportAt = Date.now();
    this.encode();
    if (this.unsent.length === 0 && this.dropped > 0) this.unsent.push({ bytes: Buffer.alloc(0), events: 0 });
    while (this.unsent.length > 0) {
      // Out of `unsent` while it is sent: attempts that end meanwhile may seal reports and bound them.
      const next = this.unsent.shift()!;
      const dropped = this.dropped;
      try {
        await this.sender.addTaskEvents({ events: next.bytes, numDropped: dropped });
        this.dropped -= dropped;
      } catch (err) {
        if (!(err instanceof InvalidRequestError)) {
          this.unsent.unshift(next); // kept: sent again with the next report
          this.bound();
          return;
        }
        // Retrying cannot help: the events are lost, and counted.
        this.dropped += next.events;
        if (!this.warnedRejected) {
          this.warnedRejected = true;
          process.stderr.write(`rayts: the head refused task events (${err.message}); they are dropped and counted\n`);
        }
      }
    }
  }

  /** Unsent reports go, oldest first and counted, while they and the table hold more than the buffer's bound (the newest stays). */
  private bound(): void {
    let total = this.table.pending + this.unsent.reduce((n, u) => n + u.events, 0);
    while (this.unsent.length > 1 && total > this.config.taskEventsBufferMaxEvents) {
      const gone = this.unsent.shift()!;
      total -= gone.events;
      this.dropped += gone.events;
    }
  }
}
