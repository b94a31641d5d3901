/** The raylet's object-transfer side channel, spoken raw: any request bytes, the reply's status and text. */
import { connect } from 'node:net';

/**
 * Sends one request on a raylet's object-transfer side channel and returns the reply's status and text
 * (-1: closed without one). With `timeoutMs`, a connection the raylet neither answers nor closes in time
 * resolves as `closed: false`.
 */
export function sideChannel(port: number, request: Buffer, host = '127.0.0.1', timeoutMs?: number): Promise<{ status: number; text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect({ host, port }, () => socket.write(request));
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => { resolve({ status: -1, text: '', closed: false }); socket.destroy(); }, timeoutMs);
    let reply = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => { reply = Buffer.concat([reply, d]); });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      if (reply.length < 5) return resolve({ status: -1, text: '', closed: true });
      resolve({ status: reply.readUInt8(0), text: reply.subarray(5, 5 + reply.readUInt32LE(1)).toString('utf8'), closed: true });
    });
  });
}

/** A side-channel request: the magic, the body's length, the body (JSON of `body`, or the string as is). */
export function transferRequest(body: unknown): Buffer {
  const json = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length, 0);
  return Buffer.concat([Buffer.from('RAYTSOB1'), length, json]);
}
