/**
 * Reports of one job driver's state to the head, in order and not lost to a head outage: one report
 * in flight at a time; a newer state replaces one not sent yet (the head needs the latest, in order);
 * a report the head could not take because it was unreachable is sent again with backoff until it
 * is. A refusal for another reason (the head does not know the job any more) is logged and dropped.
 */
import { ClusterUnreachableError, type JobDriverState, type Logger } from '@rayts/common';

export interface ReportRetry {
  /** First pause after a failed report; doubled after each failure... */
  initialMs: number;
  /** ...up to this. */
  maxMs: number;
}

export class ReportQueue {
  private pending?: JobDriverState;
  private sending = false;
  private closed = false;
  private timer?: NodeJS.Timeout;
  private wake?: () => void;

  constructor(
    private readonly send: (state: JobDriverState) => Promise<void>,
    private readonly retry: ReportRetry,
    private readonly logger: Logger,
    /** Told each state the head took (or refused for good): the last one is then off this node's books. */
    private readonly delivered: (state: JobDriverState) => void,
  ) {}

  push(state: JobDriverState): void {
    if (this.closed) return;
    this.pending = state;
    void this.pump();
  }

  /** Stops sending (the raylet is stopping); what was not sent is dropped. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.wake?.();
  }

  private async pump(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    let delay = this.retry.initialMs;
    try {
      while (this.pending && !this.closed) {
        const state = this.pending;
        try {
          await this.send(state);
        } catch (err) {
          if (err instanceof ClusterUnreachableError) {
            await this.pause(delay);
            delay = Math.min(delay * 2, this.retry.maxMs);
            continue;
          }
          this.logger.warn('the head refused a job driver report', { submissionId: state.submissionId, phase: state.phase, error: (err as Error).message });
        }
        delay = this.retry.initialMs;
        if (this.pending === state) this.pending = undefined;
        this.delivered(state);
      }
    } finally {
      this.sending = false;
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
    });
  }
}
