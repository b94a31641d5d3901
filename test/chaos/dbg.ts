import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { loadMethods, MessageFactory, Rng } from './fuzz_messages.js';
const D = process.argv[2]!;
const head = JSON.parse(readFileSync(`${D}/head/session_latest/head.json`, 'utf8'));
const raylet = JSON.parse(readFileSync(`${D}/head/session_latest/raylet.json`, 'utf8'));
const token = readFileSync(`${D}/head/state/token`, 'utf8').trim();
const { head: hm, raylet: rm, definition } = loadMethods();
const f = new MessageFactory(new Rng(12345), definition, [raylet.nodeId]);
const raw = (b: Buffer) => b;
for (const [m, addr] of [...hm.map((m) => [m, head.address] as const), ...rm.map((m) => [m, raylet.address] as const)]) {
  const client = new grpc.Client(addr, grpc.credentials.createInsecure());
  for (let i = 0; i < 2; i++) {
    const msg = f.make(m);
    const md = new grpc.Metadata(); md.set('authorization', `Bearer ${token}`);
    const options = { deadline: Date.now() + 3000 };
    const t = Date.now();
    const r = await new Promise<string>((resolve) => {
      const done = (err: grpc.ServiceError | null) => resolve(err ? `${err.code} ${err.details.slice(0, 100)}` : 'OK');
      if (m.requestStream) { const c = client.makeClientStreamRequest(m.path, raw, raw, md, options, done); for (const fr of msg.frames) c.write(fr); c.end(); }
      else if (m.responseStream) { const c = client.makeServerStreamRequest(m.path, raw, raw, msg.frames[0]!, md, options); c.on('data', () => undefined); c.on('error', () => undefined); c.on('status', (s: grpc.StatusObject) => resolve(`${s.code} ${s.details.slice(0, 100)}`)); }
      else client.makeUnaryRequest(m.path, raw, raw, msg.frames[0]!, md, options, done);
    });
    console.log(m.name, msg.kind, Date.now() - t, r);
  }
  client.close();
}
