// piscina, 2 worker threads: the three workloads; (c) by structured clone and by transfer (Piscina.move).
import { Piscina } from 'piscina';
import { fileURLToPath } from 'node:url';
import { syncRate, batchRate, roundTrips, makePayload, checkLength } from '../lib.mjs';

const filename = fileURLToPath(new URL('../workers/piscina-worker.mjs', import.meta.url));

export async function benchPiscina(cfg, scope) {
  const pool = new Piscina({ filename, minThreads: 2, maxThreads: 2 });
  scope.add(() => pool.destroy());
  const res = {};
  res.sync = await syncRate(() => pool.run(null, { name: 'noop' }), cfg.syncSeconds);
  await Promise.all(Array.from({ length: 1000 }, () => pool.run(null, { name: 'noop' })));
  res.async = await batchRate((n) => Promise.all(Array.from({ length: n }, () => pool.run(null, { name: 'noop' }))), cfg.asyncTasks);

  const payload = makePayload(cfg.payloadBytes);
  res.copy = await roundTrips(cfg.payloadBytes, cfg.copyReps, async () => {
    const out = await pool.run(payload, { name: 'echo' });
    checkLength('piscina echo', out.byteLength, cfg.payloadBytes);
  });
  // Transfer: the sender loses the buffer each way; the returned one is sent next time.
  let buf = makePayload(cfg.payloadBytes);
  res.transfer = await roundTrips(cfg.payloadBytes, cfg.copyReps, async () => {
    buf = await pool.run(Piscina.move(buf), { name: 'echoMove' });
    checkLength('piscina move', buf.byteLength, cfg.payloadBytes);
  });
  return res;
}
