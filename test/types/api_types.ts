/**
 * Compile-time checks of the typed API (argument and result types of remote functions, get, put,
 * wait): run by `tsc -p test/types` in `npm test`.
 * Each `@ts-expect-error` line must be an error, or tsc fails ("unused directive").
 */
import * as ray from 'rayts';
import type { ObjectRef } from 'rayts';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
function assertType<T extends true>(): T | undefined { return undefined; }

const square = ray.remote((x: number) => x * x);
const ref = square.remote(4);
assertType<Equal<typeof ref, ObjectRef<number>>>();

// An ObjectRef<number> is accepted where a number is.
const chained = square.remote(ref);
assertType<Equal<typeof chained, ObjectRef<number>>>();

// @ts-expect-error a string is not a number
square.remote('4');
// @ts-expect-error an ObjectRef<string> is not an ObjectRef<number>
square.remote(null as unknown as ObjectRef<string>);
// @ts-expect-error missing argument
square.remote();

// Async functions give the awaited type.
const fetchName = ray.remote(async (id: number): Promise<string> => `user-${id}`);
const name = fetchName.remote(1);
assertType<Equal<typeof name, ObjectRef<string>>>();

// options() keeps the signature.
const spread = square.options({ numCpus: 2, scheduling: 'SPREAD', maxRetries: 0 });
assertType<Equal<ReturnType<typeof spread.remote>, ObjectRef<number>>>();
// @ts-expect-error unknown option
square.options({ numCPUs: 2 });

// get() follows the ref types, for one ref and for a tuple of refs.
async function gets(): Promise<void> {
  const one = await ray.get(ref);
  assertType<Equal<typeof one, number>>();
  const pair = await ray.get([ref, name] as const);
  assertType<Equal<typeof pair, [number, string]>>();
  const many = await ray.get([ref, chained]);
  assertType<Equal<typeof many, [number, number]>>();
  const array: Float64Array = new Float64Array(4);
  const put = await ray.put(array);
  assertType<Equal<typeof put, ObjectRef<Float64Array>>>();
  const [ready] = await ray.wait([ref, chained], { numReturns: 1, timeout: 5 });
  assertType<Equal<typeof ready, ObjectRef<number>[]>>();
}
void gets;

// The options form of remote().
const heavy = ray.remote({ numCpus: 4, resources: { ssd: 1 } }, (a: string, b: number) => a.repeat(b));
assertType<Equal<ReturnType<typeof heavy.remote>, ObjectRef<string>>>();
