/**
 * Serves this node's log files to `rayts logs`. A client names a file only by a name from the
 * listing: names with a path separator, `..`, NUL or anything not in the directory are NOT_FOUND,
 * and symlinks are never listed or followed.
 */
import * as grpc from '@grpc/grpc-js';
import { closeSync, fstatSync, lstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { RpcError, type Logger } from '@rayts/common';

export interface LogEntry {
  name: string;
  size: number;
  modifiedMs: number;
  category: string;
}

export function categoryOf(name: string): string {
  if (/^worker-.*\.out$/.test(name)) return 'worker_out';
  if (/^worker-.*\.err$/.test(name)) return 'worker_err';
  if (/^job-driver-/.test(name)) return 'driver';
  if (/^raylet\./.test(name)) return 'raylet';
  if (/^gcs_server\./.test(name)) return 'gcs_server';
  if (/^dashboard/.test(name)) return 'dashboard';
  return 'internal';
}

/**
 * Shell glob (* ? [..]) to a regular expression over whole names. The glob comes from the client,
 * so the expression must not backtrack exponentially (`*a*a*a*a*a*a*b` as `.*a.*a…` took seconds
 * per file): every part between two stars is matched at its leftmost place inside a lookahead,
 * which is atomic, and only the last part backtracks.
 */
export function globToRegExp(glob: string): RegExp {
  const part = (text: string) => {
    let re = '';
    for (const ch of text) {
      if (ch === '?') re += '.';
      else if (ch === '[' || ch === ']') re += ch;
      else re += ch.replace(/[.+^${}()|\\]/g, '\\$&');
    }
    return re;
  };
  const [first = '', ...rest] = glob.split('*');
  const last = rest.pop();
  let re = part(first);
  if (last !== undefined) {
    rest.filter((p) => p !== '').forEach((p, i) => { re += `(?=(.*?${part(p)}))\\${i + 1}`; });
    re += `.*${part(last)}`;
  }
  try {
    return new RegExp(`^${re}$`);
  } catch {
    return new RegExp(`^${glob.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  }
}

export function listLogs(logsDir: string, glob: string): LogEntry[] {
  const pattern = glob ? globToRegExp(glob) : undefined;
  const out: LogEntry[] = [];
  for (const name of readdirSync(logsDir).sort()) {
    if (pattern && !pattern.test(name)) continue;
    const st = lstatSync(join(logsDir, name), { throwIfNoEntry: false });
    if (!st?.isFile()) continue;
    out.push({ name, size: st.size, modifiedMs: Math.floor(st.mtimeMs), category: categoryOf(name) });
  }
  return out;
}

/** Resolves a client-given name to a file of the listing, or NOT_FOUND. */
export function resolveLogName(logsDir: string, name: string): string {
  const listed = /^[A-Za-z0-9_.\-]+$/.test(name) && name !== '.' && name !== '..' && listLogs(logsDir, '').some((e) => e.name === name);
  if (!listed) throw new RpcError(grpc.status.NOT_FOUND, `no log file named ${JSON.stringify(name.slice(0, 200))} on this node; list them with \`rayts logs\``);
  return join(logsDir, name);
}

const CHUNK = 64 * 1024;

/** Byte offset where the last `lines` lines of the file start. */
export function tailOffset(fd: number, size: number, lines: number): number {
  if (lines < 0) return 0;
  if (lines === 0) return size;
  let newlines = 0;
  let pos = size;
  const buf = Buffer.alloc(CHUNK);
  // A trailing newline ends the last line; it does not start another one.
  let skipTrailing = true;
  while (pos > 0) {
    const len = Math.min(CHUNK, pos);
    pos -= len;
    readSync(fd, buf, 0, len, pos);
    for (let i = len - 1; i >= 0; i--) {
      if (buf[i] !== 0x0a) { skipTrailing = false; continue; }
      if (skipTrailing) { skipTrailing = false; continue; }
      newlines += 1;
      if (newlines === lines) return pos + i + 1;
    }
  }
  return 0;
}

export interface StreamTarget {
  write(chunk: { data: Buffer; truncated: boolean }): boolean;
  cancelled(): boolean;
}

/** What to send: the last `tail` lines (-1 = all), then new ones with `follow`; or exactly a byte range. */
export interface StreamWhat {
  tail: number;
  follow: boolean;
  range?: { start: number; end: number };
}

export async function streamLog(path: string, what: StreamWhat, target: StreamTarget, pollMs = 200, logger?: Logger): Promise<void> {
  const { tail, range } = what;
  const follow = what.follow && !range;
  let fd = openSync(path, 'r');
  try {
    let size = fstatSync(fd).size;
    if (range) size = Math.min(size, Math.max(0, range.end));
    let pos = range ? Math.min(size, Math.max(0, range.start)) : tail === 0 ? size : tailOffset(fd, size, tail);
    let first = !range;
    for (;;) {
      while (pos < size && !target.cancelled()) {
        const buf = Buffer.alloc(Math.min(CHUNK, size - pos));
        const n = readSync(fd, buf, 0, buf.length, pos);
        if (n <= 0) break;
        pos += n;
        target.write({ data: buf.subarray(0, n), truncated: first && tail >= 0 && pos - n > 0 });
        first = false;
      }
      if (!follow || target.cancelled()) return;
      await new Promise((r) => setTimeout(r, pollMs));
      const st = lstatSync(path, { throwIfNoEntry: false });
      if (st && st.ino !== fstatSync(fd).ino) {
        // Rotated: continue with the new file from its start.
        closeSync(fd);
        fd = openSync(path, 'r');
        pos = 0;
      }
      size = fstatSync(fd).size;
      if (size < pos) pos = 0; // truncated in place
    }
  } catch (err) {
    logger?.warn('log stream failed', { path, err });
    throw err;
  } finally {
    closeSync(fd);
  }
}
