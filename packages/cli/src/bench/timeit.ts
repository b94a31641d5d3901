/**
 * Ray's timing harness: warm up for a second to size a step, then 4 rounds of
 * at least 2 s each, calling `fn` in steps; report mean and population stddev of calls/s × multiplier.
 * Ray also sleeps 10 s before each case; rayts makes that optional (--settle) since it measures
 * nothing but lets background work finish.
 */
export interface TimingResult {
  name: string;
  perSecond: number;
  stddev: number;
  rounds: number[];
}

export interface TimeitOptions {
  warmupMs?: number;
  roundMs?: number;
  rounds?: number;
}

export async function timeit(name: string, fn: () => Promise<unknown> | unknown, multiplier = 1, options: TimeitOptions = {}): Promise<TimingResult> {
  const warmupMs = options.warmupMs ?? 1000;
  const roundMs = options.roundMs ?? 2000;
  const roundsWanted = options.rounds ?? 4;
  let count = 0;
  const warmStart = performance.now();
  while (performance.now() - warmStart < warmupMs) {
    await fn();
    count += 1;
  }
  const step = Math.floor(count / 10) + 1;
  const rounds: number[] = [];
  for (let r = 0; r < roundsWanted; r++) {
    let calls = 0;
    const start = performance.now();
    while (performance.now() - start < roundMs) {
      for (let i = 0; i < step; i++) await fn();
      calls += step;
    }
    rounds.push((multiplier * calls) / ((performance.now() - start) / 1000));
  }
  const mean = rounds.reduce((a, b) => a + b, 0) / rounds.length;
  const stddev = Math.sqrt(rounds.reduce((a, b) => a + (b - mean) ** 2, 0) / rounds.length);
  return { name, perSecond: mean, stddev, rounds };
}

/** `name per second X +- Y`, as Ray prints it. */
export function formatTiming(r: TimingResult): string {
  const digits = r.perSecond < 100 ? 2 : 1;
  return `${r.name} per second ${r.perSecond.toFixed(digits)} +- ${r.stddev.toFixed(digits)}`;
}
