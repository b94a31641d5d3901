/**
 * Ray's "hello world": a remote `square`, called on 1000 inputs in parallel.
 *
 * `square.remote(i)` returns at once with an ObjectRef<number>; `ray.get` waits for all of them.
 * The sum of i² for i = 0..n-1 is (n-1)·n·(2n-1)/6, which the driver checks.
 *
 *   npx tsc -p examples && node examples/dist/square.js
 */
import * as ray from 'rayts';

const N = 1000;

await ray.init();
try {
  const square = ray.remote((x: number) => x * x);

  const refs = Array.from({ length: N }, (_, i) => square.remote(i)); // ObjectRef<number>[]
  const squares = await ray.get(refs); // number[], in the order of refs
  const sum = squares.reduce((a, b) => a + b, 0);
  const expected = ((N - 1) * N * (2 * N - 1)) / 6;

  console.log(`first squares: ${squares.slice(0, 10).join(', ')}, ...`);
  console.log(`sum of squares of 0..${N - 1} = ${sum}`);
  if (sum !== expected) throw new Error(`expected ${expected}, got ${sum}`);
  console.log(`expected ${expected} (ok)`);
} finally {
  await ray.shutdown();
}
