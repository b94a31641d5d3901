// The raw-socket baseline of the remote-client benchmark: listens on 127.0.0.1, and for each
// connection reads an 8-byte length, then that many bytes into a fresh buffer of that size (as a
// client's `get` fills one), and answers one byte. Prints its port on stdout.
import { createServer } from 'node:net';

const server = createServer((socket) => {
  let target;
  let filled = 0;
  let header = Buffer.alloc(0);
  socket.on('data', (chunk) => {
    if (!target) {
      header = Buffer.concat([header, chunk]);
      if (header.length < 8) return;
      target = new Uint8Array(Number(header.readBigUInt64LE(0)));
      chunk = header.subarray(8);
    }
    target.set(chunk, filled);
    filled += chunk.length;
    if (filled === target.length) socket.end(Buffer.from([1]));
  });
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
process.on('disconnect', () => process.exit(0));
