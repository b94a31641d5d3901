/**
 * Ray's classic Counter actor: state that lives in one worker process, changed by calls that run in
 * the order each caller made them.
 *
 * The driver makes 10 `increment` calls without waiting, then reads the value (10). Two tasks then
 * share the same handle and each makes 50 calls; the actor records who called, and the driver checks
 * that each caller's calls arrived in its own order and that the total is 110.
 *
 *   npx tsc -p examples && node examples/dist/counter.js
 */
import * as ray from 'rayts';

const Counter = ray.remote(class Counter {
  value = 0;
  calls: Record<string, number[]> = {};

  increment(): number {
    return ++this.value;
  }

  /** An increment that records which caller made it and its sequence number. */
  incrementFrom(caller: string, seq: number): number {
    (this.calls[caller] ??= []).push(seq);
    return ++this.value;
  }

  get(): number {
    return this.value;
  }

  history(): Record<string, number[]> {
    return this.calls;
  }
});

await ray.init();
try {
  const counter = Counter.remote(); // ActorHandle<Counter>
  for (let i = 0; i < 10; i++) counter.increment.remote();
  const ten = await ray.get(counter.get.remote()); // number
  console.log(`after 10 increments: ${ten}`);
  if (ten !== 10) throw new Error(`expected 10, got ${ten}`);

  // Handles travel to tasks like any value; each task is another caller of the same actor.
  const caller = ray.remote(async (handle: typeof counter, name: string, n: number) => {
    const ray = await import('rayts');
    const refs = Array.from({ length: n }, (_, i) => handle.incrementFrom.remote(name, i));
    return (await ray.get(refs)).length;
  });
  await ray.get([caller.remote(counter, 'left', 50), caller.remote(counter, 'right', 50)]);

  const history = await ray.get(counter.history.remote());
  for (const name of ['left', 'right']) {
    const seqs = history[name] ?? [];
    const ordered = seqs.every((s, i) => s === i);
    console.log(`${name}: ${seqs.length} calls, in the caller's order: ${ordered ? 'yes' : 'NO'}`);
    if (!ordered || seqs.length !== 50) throw new Error(`${name}'s calls arrived out of order or went missing`);
  }
  const total = await ray.get(counter.get.remote());
  console.log(`final value: ${total}`);
  if (total !== 110) throw new Error(`expected 110, got ${total}`);
  console.log('counter (ok)');
} finally {
  await ray.shutdown();
}
