/**
 * What a worker reports of the attempts it runs (task events, executing side): an attempt arrived
 * (SUBMITTED_TO_WORKER), it started (RUNNING, with the log offsets at its start), it ended. The end
 * of a task or actor call goes back with its outcome (`TaskOutcome.run`: times, worker, log range)
 * and its owner reports it; an actor's creation has no owner to hear its outcome, so its host
 * reports all of it, at once.
 */
import { actorCreationTaskId } from './ids.js';
import { actorCreationInfo } from './event_report.js';
import type { ExecutorTaskEvents } from './task_event_buffer.js';
import type { OwnerFailure } from './event_report.js';
import type { OutputOffsets } from './output_offsets.js';
import type { ActorCreation, AttemptRun, TaskOutcome, TaskSpec } from './protocol/messages.js';

export interface AttemptRecorderDeps {
  events: ExecutorTaskEvents;
  /** Ends of this worker's stdout/stderr files. */
  offsets: OutputOffsets;
  workerId: string;
}

export class AttemptRecorder {
  constructor(private readonly deps: AttemptRecorderDeps) {}

  get offsets(): OutputOffsets {
    return this.deps.offsets;
  }

  /** The attempt arrived here: the run its outcome will carry (undefined while task events are off). */
  received(task: TaskSpec): AttemptRun | undefined {
    const { events, workerId } = this.deps;
    if (!events.enabled) return undefined;
    const now = Date.now();
    events.executing(task.taskId, task.attempt, task.jobId, 'SUBMITTED_TO_WORKER', now, -1, -1);
    return { workerId, workerPid: process.pid, receivedMs: now };
  }

  /** It starts running now. */
  start(task: TaskSpec, run: AttemptRun | undefined): void {
    if (!run) return;
    const now = Date.now();
    const o = this.deps.offsets;
    o.refresh(now);
    run.startMs = now;
    run.stdoutStart = o.stdout;
    run.stderrStart = o.stderr;
    this.deps.events.executing(task.taskId, task.attempt, task.jobId, 'RUNNING', now, o.stdout, o.stderr);
  }

  /** It ended with `outcome`, which carries the run to the owner (who reports the end from now on). */
  end(task: TaskSpec, run: AttemptRun | undefined, outcome: TaskOutcome): TaskOutcome {
    if (!run) return outcome;
    const now = Date.now();
    if (run.startMs) {
      const o = this.deps.offsets;
      o.refresh(now);
      run.stdoutEnd = o.stdout;
      run.stderrEnd = o.stderr;
    }
    run.endMs = now;
    outcome.run = run;
    this.deps.events.handedToOwner(task.taskId, task.attempt);
    return outcome;
  }

  /** The raylet made this worker an actor's: its creation arrived. */
  creationReceived(actor: ActorCreation): void {
    const { events } = this.deps;
    if (!events.enabled) return;
    events.executing(actorCreationTaskId(actor.actorId), actor.numRestarts, actor.jobId, 'SUBMITTED_TO_WORKER', Date.now(), -1, -1,
      actorCreationInfo(actor.className, actor.actorId, ''));
  }

  /** The constructor starts. */
  creationStarted(actor: ActorCreation): void {
    if (!this.deps.events.enabled) return;
    const now = Date.now();
    const o = this.deps.offsets;
    o.refresh(now);
    this.deps.events.executing(actorCreationTaskId(actor.actorId), actor.numRestarts, actor.jobId, 'RUNNING', now, o.stdout, o.stderr);
  }

  /** The constructor ran (or threw: `error`); reported at once, before anything can kill the actor. */
  creationEnded(actor: ActorCreation, error?: OwnerFailure): void {
    const { events } = this.deps;
    if (!events.enabled) return;
    const now = Date.now();
    const o = this.deps.offsets;
    o.refresh(now);
    events.ended(actorCreationTaskId(actor.actorId), actor.numRestarts, actor.jobId, error ? 'FAILED' : 'FINISHED', now, o.stdout, o.stderr, error);
    void events.flush();
  }
}
