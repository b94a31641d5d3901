/** A fake of the task-event buffer for unit tests of the parts that report: it records every call in order. */
import type { ExecutorTaskEvents, OwnerTaskEvents } from './task_event_buffer.js';
import type { OwnerFailure } from './event_report.js';
import type { TaskInfo } from '@rayts/common';
import type { TaskOutcome } from './protocol/messages.js';
import type { RunningAttempt } from './event_report.js';

export type RecordedEvent =
  | { kind: 'submitted'; taskId: string; attempt: number; info: TaskInfo }
  | { kind: 'track'; taskId: string; attempt: number; run: RunningAttempt }
  | { kind: 'untrack'; taskId: string; attempt: number }
  | { kind: 'attemptEnded'; taskId: string; attempt: number }
  | { kind: 'sentToRaylet'; taskId: string; attempt: number }
  | { kind: 'outcome'; taskId: string; attempt: number; outcome: TaskOutcome }
  | { kind: 'failed'; taskId: string; attempt: number; failure: OwnerFailure }
  | { kind: 'executing'; taskId: string; attempt: number; state: string; stdoutAt: number; stderrAt: number }
  | { kind: 'ended'; taskId: string; attempt: number; state: string; error?: OwnerFailure };

export class RecordingTaskEvents implements OwnerTaskEvents, ExecutorTaskEvents {
  readonly enabled = true;
  readonly events: RecordedEvent[] = [];
  flushes = 0;

  submitted(taskId: string, attempt: number, _jobId: string, info: TaskInfo): number {
    this.events.push({ kind: 'submitted', taskId, attempt, info });
    return this.events.length;
  }
  sentToRaylet(taskId: string, attempt: number): number {
    this.events.push({ kind: 'sentToRaylet', taskId, attempt });
    return this.events.length;
  }
  outcome(_jobId: string, outcome: TaskOutcome): number {
    this.events.push({ kind: 'outcome', taskId: outcome.taskId, attempt: outcome.attempt, outcome });
    return this.events.length;
  }
  failed(taskId: string, attempt: number, _jobId: string, failure: OwnerFailure): number {
    this.events.push({ kind: 'failed', taskId, attempt, failure });
    return this.events.length;
  }
  executing(taskId: string, attempt: number, _jobId: string, state: string, _timeMs: number, stdoutAt: number, stderrAt: number): void {
    this.events.push({ kind: 'executing', taskId, attempt, state, stdoutAt, stderrAt });
  }
  ended(taskId: string, attempt: number, _jobId: string, state: string, _timeMs: number, _o: number, _e: number, error?: OwnerFailure): void {
    this.events.push({ kind: 'ended', taskId, attempt, state, error });
  }
  track(run: RunningAttempt): void {
    this.events.push({ kind: 'track', taskId: run.taskId, attempt: run.attempt, run });
  }
  untrack(run: RunningAttempt): void {
    this.events.push({ kind: 'untrack', taskId: run.taskId, attempt: -1 });
  }
  attemptEnded(): void {
    this.events.push({ kind: 'attemptEnded', taskId: '', attempt: -1 });
  }
  async flush(): Promise<void> {
    this.flushes += 1;
  }

  /** The calls about one task, as `kind:attempt[:detail]` strings. */
  of(taskId: string): string[] {
    return this.events.filter((e) => e.taskId === taskId).map((e) => {
      const detail = e.kind === 'failed' ? e.failure.errorType : e.kind === 'outcome' ? (e.outcome.failure?.type ?? 'ok') : e.kind === 'executing' || e.kind === 'ended' ? e.state : '';
      return `${e.kind}${e.attempt >= 0 ? `:${e.attempt}` : ''}${detail ? `:${detail}` : ''}`;
    });
  }
}
