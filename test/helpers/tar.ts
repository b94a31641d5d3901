/**
 * Hand-made tar.gz archives for tests of what the head refuses: entries with `../`, absolute paths,
 * symlinks pointing outside, hard links. Written header by header (ustar), so nothing sanitises them.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';

export interface TarEntry {
  name: string;
  /** '0' file (default), '2' symlink, '1' hard link, '5' directory. */
  type?: '0' | '1' | '2' | '5';
  body?: string | Buffer;
  linkname?: string;
  mode?: number;
}

function field(buf: Buffer, offset: number, length: number, value: string): void {
  buf.write(value.slice(0, length), offset, length, 'utf8');
}

function octal(value: number, length: number): string {
  return value.toString(8).padStart(length - 1, '0') + '\0';
}

function header(e: TarEntry, size: number): Buffer {
  const h = Buffer.alloc(512);
  field(h, 0, 100, e.name);
  field(h, 100, 8, octal(e.mode ?? (e.type === '5' ? 0o755 : 0o644), 8));
  field(h, 108, 8, octal(0, 8));
  field(h, 116, 8, octal(0, 8));
  field(h, 124, 12, octal(size, 12));
  field(h, 136, 12, octal(0, 12));
  h.fill(' ', 148, 156);
  field(h, 156, 1, e.type ?? '0');
  field(h, 157, 100, e.linkname ?? '');
  field(h, 257, 6, 'ustar\0');
  field(h, 263, 2, '00');
  let sum = 0;
  for (const b of h) sum += b;
  field(h, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return h;
}

/** The .tar.gz bytes of `entries`, with its sha256 (the package name the head expects). */
export function tarGz(entries: TarEntry[]): { bytes: Buffer; sha256: string } {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const body = e.type === '0' || e.type === undefined ? Buffer.from(e.body ?? '') : Buffer.alloc(0);
    parts.push(header(e, body.length), body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  const bytes = gzipSync(Buffer.concat(parts));
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
}
