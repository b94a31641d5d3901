import { describe, expect, it } from 'vitest';
import { ClusterUnreachableError, ConnectionUnavailableError, HeadUnavailableError, NotFoundError } from '../errors.js';
import { HeadPatience } from './head_patience.js';

/** A call that finds no head `failures` times, then answers. */
function flaky(failures: number, error: () => Error = () => new ConnectionUnavailableError('no rayts head answers at 127.0.0.1:1 (Connection refused)')) {
  let calls = 0;
  return {
    get calls() { return calls; },
    attempt: async () => {
      calls += 1;
      if (calls <= failures) throw error();
      return 'answer';
    },
  };
}

const patience = (patienceMs: number) => new HeadPatience({ address: '127.0.0.1:1', patienceMs, initialBackoffMs: 1, maxBackoffMs: 4 });

describe('HeadPatience', () => {
  it('waits through a head that does not answer yet', async () => {
    const call = flaky(5);
    expect(await patience(10_000).run('reading fn/h', call.attempt)).toBe('answer');
    expect(call.calls).toBe(6);
  });

  it('gives up once the head stayed away past its patience, with an error that says so and what to check', async () => {
    const call = flaky(Number.MAX_SAFE_INTEGER);
    const started = performance.now();
    const err = await patience(300).run('registering actor a1', call.attempt).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HeadUnavailableError);
    expect(err).toBeInstanceOf(ClusterUnreachableError);
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    const { message, hint } = err as HeadUnavailableError;
    expect(message).toMatch(/^registering actor a1: the head at 127\.0\.0\.1:1 did not come back within 0\.3 s \(RAYTS_GCS_RECONNECT_TIMEOUT_S\); last error: no rayts head answers/);
    expect(hint).toMatch(/rayts status.*rayts start --head.*RAYTS_GCS_RECONNECT_TIMEOUT_S/);
    expect(call.calls).toBeGreaterThan(10);
  });

  it('backs off: pauses double up to the maximum', async () => {
    const times: number[] = [];
    const p = new HeadPatience({ address: 'h:1', patienceMs: 10_000, initialBackoffMs: 10, maxBackoffMs: 40 });
    let n = 0;
    await p.run('x', async () => {
      times.push(performance.now());
      if (++n <= 5) throw new ConnectionUnavailableError('no head');
      return n;
    });
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // 10, 20, 40, 40, 40 ms (timers may fire late, never early)
    expect(gaps[0]).toBeGreaterThanOrEqual(9);
    expect(gaps[1]).toBeGreaterThanOrEqual(19);
    for (const g of gaps.slice(2)) expect(g).toBeGreaterThanOrEqual(39);
  });

  it('does not retry an answer: errors of the call itself, and a deadline the head missed, fail at once', async () => {
    for (const error of [() => new NotFoundError('no such actor'), () => new ClusterUnreachableError('the rayts head at h:1 did not answer in time')]) {
      const call = flaky(1, error);
      await expect(patience(10_000).run('x', call.attempt)).rejects.toThrow(error().message);
      expect(call.calls).toBe(1);
    }
  });
});
