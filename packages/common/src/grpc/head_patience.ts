/**
 * Calls that need the head, carried across a head restart: a call that finds no head (UNAVAILABLE:
 * refused, reset, dropped) is made again with backoff until the head answers, or until the head has
 * stayed away longer than the patience (`RAYTS_GCS_RECONNECT_TIMEOUT_S`, Ray's
 * `gcs_rpc_server_reconnect_timeout_s`, the time a raylet waits for its head before it exits); then
 * the call fails with HeadUnavailableError, which says so and what to check.
 *
 * Only calls the head handles idempotently go through here (registrations and creations carry their
 * ids, kv puts their keys): a call cut while in flight may have been applied before the head died.
 * A deadline the head did not meet is not retried: that head is alive, and the caller's own deadline
 * stands.
 */
import { ConnectionUnavailableError, HeadUnavailableError } from '../errors.js';
import type { Config } from '../config.js';

export interface CallPatience {
  /** Runs `attempt` until it succeeds, fails for another reason than a missing head, or the head stays away too long. */
  run<T>(what: string, attempt: () => Promise<T>): Promise<T>;
}

export interface HeadPatienceOptions {
  /** The head's address (named in the error). */
  address: string;
  /** How long the head may stay unreachable (ms). */
  patienceMs: number;
  /** First pause between attempts; doubles up to maxBackoffMs. */
  initialBackoffMs: number;
  maxBackoffMs: number;
}

/** True for "no head answers" (gRPC UNAVAILABLE); a deadline the head missed is not. */
export function isHeadMissing(err: unknown): boolean {
  return err instanceof ConnectionUnavailableError;
}

export class HeadPatience implements CallPatience {
  constructor(private readonly options: HeadPatienceOptions) {}

  async run<T>(what: string, attempt: () => Promise<T>): Promise<T> {
    const { patienceMs, initialBackoffMs, maxBackoffMs } = this.options;
    const started = performance.now();
    let backoff = initialBackoffMs;
    for (;;) {
      try {
        return await attempt();
      } catch (err) {
        if (!isHeadMissing(err)) throw err;
        const waited = performance.now() - started;
        if (waited + backoff > patienceMs) throw this.gaveUp(what, err as Error);
        await new Promise((resolve) => setTimeout(resolve, backoff));
        backoff = Math.min(backoff * 2, maxBackoffMs);
      }
    }
  }

  private gaveUp(what: string, last: Error): HeadUnavailableError {
    const seconds = Math.round(this.options.patienceMs / 100) / 10;
    return new HeadUnavailableError(
      `${what}: the head at ${this.options.address} did not come back within ${seconds} s (RAYTS_GCS_RECONNECT_TIMEOUT_S); last error: ${last.message}`,
      'check that the head runs (`rayts status` on the head host; its log is logs/gcs_server.log in the head\'s session dir) and restart it with '
        + '`rayts start --head` on the same --temp-dir; raise RAYTS_GCS_RECONNECT_TIMEOUT_S to wait longer for a head that restarts slowly',
    );
  }
}

/** The patience of a driver's or worker's calls to the head at `address`, from the tunables. */
export function headPatience(address: string, config: Pick<Config, 'gcsReconnectTimeoutS' | 'gcsRetryInitialBackoffMs' | 'gcsRetryMaxBackoffMs'>): HeadPatience {
  return new HeadPatience({
    address, patienceMs: config.gcsReconnectTimeoutS * 1000, initialBackoffMs: config.gcsRetryInitialBackoffMs, maxBackoffMs: config.gcsRetryMaxBackoffMs,
  });
}
