// (c) for workerpool's process mode, in a process of its own: the Buffer goes through
// child_process IPC as JSON, which needs several GB of heap; an OOM here must not take the
// whole benchmark down. Prints one JSON line: { runs: [ms, ...], bytes } or { error }.
import workerpool from 'workerpool';
import { fileURLToPath } from 'node:url';
import { makePayload, now, checkLength } from '../lib.mjs';

const bytes = Number(process.argv[2]);
const reps = Number(process.argv[3] ?? 1);
const script = fileURLToPath(new URL('./workerpool-worker.cjs', import.meta.url));
const pool = workerpool.pool(script, {
  minWorkers: 1, maxWorkers: 1, workerType: 'process',
  forkOpts: { execArgv: ['--max-old-space-size=12288'] },
});
let code = 0;
try {
  const buf = Buffer.from(makePayload(bytes).buffer);
  await pool.exec('noop', []);
  const runs = [];
  let shape = '';
  for (let i = 0; i < reps; i++) {
    const t0 = now();
    const out = await pool.exec('echo', [buf]);
    runs.push(now() - t0);
    shape = Buffer.isBuffer(out) ? 'Buffer' : `plain object {${Object.keys(out ?? {}).join(', ')}}`;
    checkLength('workerpool process echo', out?.data?.length ?? out?.length, bytes);
  }
  process.stdout.write(JSON.stringify({ runs, bytes, shape, peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) }) + '\n');
} catch (err) {
  process.stdout.write(JSON.stringify({ error: err?.message ?? String(err) }) + '\n');
  code = 1;
} finally {
  await pool.terminate(true);
}
process.exit(code);
