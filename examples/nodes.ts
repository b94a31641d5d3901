/**
 * Where do tasks run? Ray's classic first program.
 *
 * 100 tasks each sleep 100 ms and return the IP of the node they ran on; the driver counts them
 * per node. With `ray.init()` and no cluster around, rayts starts a private one-node cluster on
 * this machine, so every task lands on 127.0.0.1. Started against a cluster
 * (RAYTS_ADDRESS=auto node examples/dist/nodes.js on one of its nodes), the tasks spread over it.
 *
 *   npx tsc -p examples && node examples/dist/nodes.js
 */
import * as ray from 'rayts';

const NUM_TASKS = 100;

await ray.init();
try {
  // Functions given to ray.remote are shipped by source: everything they use is a parameter, a
  // global, or imported inside them. Inside a task, import('rayts') is the running runtime.
  const whereAmI = ray.remote(async (sleepMs: number) => {
    await new Promise((resolve) => setTimeout(resolve, sleepMs));
    const ray = await import('rayts');
    return ray.getRuntimeContext().nodeIp;
  });

  const started = performance.now();
  const refs = Array.from({ length: NUM_TASKS }, () => whereAmI.remote(100)); // ObjectRef<string>[]
  const ips = await ray.get(refs); // string[]
  const seconds = (performance.now() - started) / 1000;

  const perNode = new Map<string, number>();
  for (const ip of ips) perNode.set(ip, (perNode.get(ip) ?? 0) + 1);

  console.log(`driver node: ${ray.getRuntimeContext().nodeIp}`);
  console.log(`${ips.length} tasks ran on ${perNode.size} node(s) in ${seconds.toFixed(2)} s:`);
  for (const [ip, count] of [...perNode].sort((a, b) => b[1] - a[1])) {
    console.log(`  ${ip.padEnd(15)} ${String(count).padStart(3)} tasks`);
  }
  const total = [...perNode.values()].reduce((a, b) => a + b, 0);
  if (total !== NUM_TASKS) throw new Error(`expected ${NUM_TASKS} results, counted ${total}`);
  console.log(`total: ${total} tasks (ok)`);
} finally {
  await ray.shutdown();
}
