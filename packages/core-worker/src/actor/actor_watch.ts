/**
 * Follows an actor's record at the head while calls wait for the actor to be (again) alive: a
 * long-poll (GetActor with the last version seen) answered when the record changes, or after a
 * while, and asked again until calls can go.
 */
import { NotFoundError, type ActorInfoMsgOutput } from '@rayts/common';
import type { ActorCallerConfig, ActorDirectory } from './actor_core.js';

/** The actor as its watch sees it (its queue). */
export interface WatchedActor {
  readonly actorId: string;
  /** The version of the newest record seen: the head answers once it has a newer one. */
  version(): number;
  /** Calls wait for news from the head; the watch ends as soon as this is false. */
  waitsForHead(): boolean;
  /** A newer record arrived. */
  onRecord(info: ActorInfoMsgOutput): void;
  /** The head knows no such actor. */
  onUnknown(message: string): void;
  /** The watch ended: calls may go now. */
  onEnded(): void;
}

export class ActorWatch {
  private running = false;
  private stopped = false;

  constructor(
    private readonly actor: WatchedActor,
    private readonly head: Pick<ActorDirectory, 'getActor'>,
    private readonly config: Pick<ActorCallerConfig, 'actorWatchWaitMs' | 'actorWatchRetryMs'>,
  ) {}

  /** Starts following the actor, unless already doing so. */
  start(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    void this.follow().finally(() => {
      this.running = false;
      if (!this.stopped) this.actor.onEnded();
    });
  }

  /** For good (the caller is shutting down). */
  stop(): void {
    this.stopped = true;
  }

  private async follow(): Promise<void> {
    const a = this.actor;
    while (!this.stopped && a.waitsForHead()) {
      try {
        const info = await this.head.getActor(a.actorId, a.version(), this.config.actorWatchWaitMs);
        if (info.version > a.version()) a.onRecord(info);
      } catch (err) {
        if (err instanceof NotFoundError) {
          a.onUnknown(`the head knows no actor ${a.actorId}`);
        } else {
          // The head is restarting: ask again shortly (its restart keeps the actor table).
          await new Promise((r) => setTimeout(r, this.config.actorWatchRetryMs));
        }
      }
    }
  }
}
