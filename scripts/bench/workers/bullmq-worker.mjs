// BullMQ worker in a child process: `node bullmq-worker.mjs <port> <queue> <concurrency>`.
// Jobs: 'noop' returns 'ok'; 'echo' decodes its base64 payload and returns it base64-encoded.
import { Worker } from 'bullmq';

const [port, queueName, concurrency] = process.argv.slice(2);
const connection = { host: '127.0.0.1', port: Number(port), maxRetriesPerRequest: null };
const worker = new Worker(queueName, async (job) => {
  if (job.name === 'echo') {
    const buf = Buffer.from(job.data.b64, 'base64');
    return { b64: buf.toString('base64') };
  }
  return 'ok';
}, { connection, concurrency: Number(concurrency) });
worker.on('error', (err) => console.error('bullmq worker:', err.message));

let closing = false;
async function close() {
  if (closing) return;
  closing = true;
  try { await worker.close(); } catch { /* best effort */ }
  process.exit(0);
}
process.on('message', (m) => { if (m === 'close') close(); });
process.on('disconnect', close);
process.on('SIGTERM', close);
await worker.waitUntilReady();
process.send('ready');
