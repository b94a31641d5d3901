// Test helper for arena.test.ts: maps the parent's arena in a second process and proves that both
// see the same memory. Plain Node (no TypeScript): it uses the native addon directly.
//   node attach_child.mjs <addon.node> <procPath | fd:N> <size> <offset> <length>
// It checks that [offset, offset+length) holds the parent's pattern (byte i = (i * 7 + 3) & 255),
// writes the child's pattern (byte i = (i * 13 + 5) & 255) there, and reports over IPC.
import { createRequire } from 'node:module';
import { openSync } from 'node:fs';

const [addonPath, where, sizeArg, offsetArg, lengthArg] = process.argv.slice(2);
const native = createRequire(import.meta.url)(addonPath);
const size = Number(sizeArg);
const offset = Number(offsetArg);
const length = Number(lengthArg);
try {
  const fd = where.startsWith('fd:') ? Number(where.slice(3)) : openSync(where, 'r+');
  const ab = native.map(fd, size, true, false);
  const view = new Uint8Array(ab, offset, length);
  let mismatches = 0;
  for (let i = 0; i < length; i++) if (view[i] !== ((i * 7 + 3) & 255)) mismatches++;
  for (let i = 0; i < length; i++) view[i] = (i * 13 + 5) & 255;
  process.send({ ok: true, mismatches, pid: process.pid });
} catch (err) {
  process.send({ ok: false, error: String(err && err.stack || err) });
}
// Stay until the parent has read the bytes and disconnects (or kills us).
process.on('disconnect', () => process.exit(0));
