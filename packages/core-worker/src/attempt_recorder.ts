/**
 * What a worker reports of the attempts it runs (task events, executing side). A task or actor call
 * is tracked from its arrival (SUBMITTED_TO_WORKER) through its start (RUNNING, with the log offsets
 * at its start) to its end, which goes back with its outcome (`TaskOutcome.run`: times, worker, log
 * range) for its owner to report. An actor's creation has no owner to hear its outcome, so its host
 * reports all of it, and at once.
 */
import { actorCreationTaskId } from './ids.js';
import { actorCreationInfo, type OwnerFailure, type RunningAttempt } from './event_report.js';
import type { ExecutorTaskEvents } from './task_event_buffer.js';
import type { OutputOffsets } from './output_offsets.js';
import { packRun, type ActorCreation, type TaskOutcome, type TaskSpec } from './protocol/messages.js';

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
  received(task: TaskSpec): RunningAttempt | undefined {
    const { events, workerId } = this.deps;
    if (!events.enabled) return undefined;
    // Every field from the start: one shape for all of them.
    const run: RunningAttempt = {
      workerId, workerPid: process.pid, receivedMs: Date.now(), startMs: undefined, endMs: undefined,
      stdoutStart: undefined, stdoutEnd: undefined, stderrStart: undefined, stderrEnd: undefined,
      taskId: task.taskId, attempt: task.attempt, jobId: task.jobId, reported: 0,
    };
    events.track(run);
    return run;
  }

  /** It went back to the raylet without running here (this worker blocked). */
  returned(run: RunningAttempt | undefined): void {
    if (run) this.deps.events.untrack(run);
  }

  /** It starts running now. */
  start(run: RunningAttempt | undefined): void {
    if (!run) return;
    const now = Date.now();
    const o = this.deps.offsets;
    o.refresh(now);
    run.stdoutStart = o.stdout;
    run.stderrStart = o.stderr;
    run.startMs = now;
  }

  /** It ended with `outcome`, which carries the run to the owner (who reports the end). */
  end(run: RunningAttempt | undefined, outcome: TaskOutcome): TaskOutcome {
    if (!run) return outcome;
    const { events, offsets } = this.deps;
    const now = Date.now();
    if (run.startMs) {
      offsets.refresh(now);
      run.stdoutEnd = offsets.stdout;
      run.stderrEnd = offsets.stderr;
    }
    run.endMs = now;
    outcome.run = packRun(run);
    events.untrack(run);
    events.attemptEnded();
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
    const { events, offsets } = this.deps;
    if (!events.enabled) return;
    const now = Date.now();
    offsets.refresh(now);
    events.executing(actorCreationTaskId(actor.actorId), actor.numRestarts, actor.jobId, 'RUNNING', now, offsets.stdout, offsets.stderr);
  }

  /** The constructor ran (or threw: `error`); reported at once, before anything can kill the actor. */
  creationEnded(actor: ActorCreation, error?: OwnerFailure): void {
    const { events, offsets } = this.deps;
    if (!events.enabled) return;
    const now = Date.now();
    offsets.refresh(now);
    events.ended(actorCreationTaskId(actor.actorId), actor.numRestarts, actor.jobId, error ? 'FAILED' : 'FINISHED', now, offsets.stdout, offsets.stderr, error);
    void events.flush();
  }
}
