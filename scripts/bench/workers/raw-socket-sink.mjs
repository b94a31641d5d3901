// The raw-socket baseline of the remote-client benchmark: listens on 127.0.0.1, and for each
// connection reads an 8-byte length, then that many bytes into a fresh buffer of that size (as a
// client's `get` fills one), and answers one byte. Prints its port on stdout. With an argument
// (a byte count), it first allocates and touches a buffer of that size, and fills it (or its start)
// instead: the wire's speed without the first touch of fresh memory.
import { createServer } from 'node:net';

const warm = process.argv[2] ? new Uint8Array(Number(process.argv[2])).fill(1) : undefined;

const server = createServer((socket) => {
  let target;
  let filled = 0;
  let header = Buffer.alloc(0);
  socket.on('data', (chunk) => {
    if (!target) {
      header = Buffer.concat([header, chunk]);
      if (header.length < 8) return;
      const n = Number(header.readBigUInt64LE(0));
      target = warm && warm.length >= n ? warm.subarray(0, n) : new Uint8Array(n);
      chunk = header.subarray(8);
    }
    target.set(chunk, filled);
    filled += chunk.length;
    if (filled === target.length) socket.end(Buffer.from([1]));
  });
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
process.on('disconnect', () => process.exit(0));
