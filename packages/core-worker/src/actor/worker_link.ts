/**
 * One caller's connection to the worker of an actor on its own node. Calls go over it in order; it
 * follows the actor to a new worker when the actor moves (a restart), and reports a worker whose
 * connection closed or could not be opened as lost.
 */
import type { ActorTarget } from './actor_core.js';
import type { ActorTransport, WorkerChannel } from './actor_transport.js';
import type { TaskOutcome } from '../protocol/messages.js';

/** One connection, from its first attempt on. */
interface Attempt {
  readonly workerId: string;
  channel?: WorkerChannel;
}

/**
 * - `none`: no connection; `channelTo` starts one.
 * - `connecting`: an attempt to `attempt.workerId` is under way; a newer target supersedes it (the
 *   superseded one is closed as soon as it opens, and reports nothing).
 * - `open`: calls to `attempt.workerId` go over `attempt.channel`.
 * - `closed`: the caller is shutting down; nothing opens and nothing is reported any more.
 */
type LinkState =
  | { kind: 'none' }
  | { kind: 'connecting'; attempt: Attempt }
  | { kind: 'open'; attempt: Attempt }
  | { kind: 'closed' };

export interface WorkerLinkEvents {
  /** A connection opened, or a patient attempt gave up: calls waiting for it may go (or connect anew). */
  changed(): void;
  result(outcome: TaskOutcome): void;
  /** The connection to this worker closed, or could not be opened: the worker is taken as dead. */
  lost(workerId: string, reason: string): void;
}

export class WorkerLink {
  private state: LinkState = { kind: 'none' };
  /**
   * Open connections to workers calls no longer go to (the actor moved without their closing first):
   * kept, so that calls still running there report their outcome, or are lost when they close.
   */
  private readonly retired = new Set<Attempt>();

  constructor(private readonly transport: Pick<ActorTransport, 'dial'>, private readonly events: WorkerLinkEvents) {}

  /**
   * Connects while the actor is still being constructed (its worker listens from the start), so that
   * calls leave the moment it is ready. An attempt that never succeeds is forgotten, not lost: the
   * actor is not known to be dead, and the normal path connects once it is ready.
   */
  prepare(target: ActorTarget): void {
    if (this.state.kind === 'none') this.connect(target, true);
  }

  /** The open connection to `target`'s worker; else undefined, and a connection is under way (`changed` follows). */
  channelTo(target: ActorTarget): WorkerChannel | undefined {
    const s = this.state;
    if (s.kind === 'closed') return undefined;
    if ((s.kind === 'open' || s.kind === 'connecting') && s.attempt.workerId === target.workerId) return s.attempt.channel;
    this.connect(target, false);
    return undefined;
  }

  close(): void {
    const s = this.state;
    this.state = { kind: 'closed' };
    if (s.kind === 'open') s.attempt.channel!.close();
    for (const a of this.retired) a.channel!.close();
    this.retired.clear();
  }

  private connect(target: ActorTarget, patient: boolean): void {
    if (this.state.kind === 'open') this.retired.add(this.state.attempt);
    const attempt: Attempt = { workerId: target.workerId };
    this.state = { kind: 'connecting', attempt };
    this.transport.dial(target.socketPath, patient, {
      result: (outcome) => { if (this.carries(attempt)) this.events.result(outcome); },
      closed: () => this.onClosed(attempt),
    }).then((channel) => {
      if (!this.isCurrent(attempt)) { channel.close(); return; }
      attempt.channel = channel;
      this.state = { kind: 'open', attempt };
      this.events.changed();
    }, (err: Error) => {
      if (!this.isCurrent(attempt)) return;
      this.state = { kind: 'none' };
      if (patient) this.events.changed();
      else this.events.lost(attempt.workerId, `could not connect to the actor: ${err.message}`);
    });
  }

  private isCurrent(attempt: Attempt): boolean {
    return this.state.kind === 'connecting' && this.state.attempt === attempt;
  }

  /** Whether results on this connection still count: it is the open one, or a retired one. */
  private carries(attempt: Attempt): boolean {
    return (this.state.kind === 'open' && this.state.attempt === attempt) || this.retired.has(attempt);
  }

  private onClosed(attempt: Attempt): void {
    if (this.state.kind === 'open' && this.state.attempt === attempt) this.state = { kind: 'none' };
    else if (!this.retired.delete(attempt)) return; // superseded before it opened, or shut down
    this.events.lost(attempt.workerId, 'the connection to the actor closed');
  }
}
