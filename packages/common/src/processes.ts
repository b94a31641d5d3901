/**
 * Process bookkeeping on Linux via /proc: a pid is only trusted together with its start time, so a
 * recycled pid is never signalled by `rayts stop`.
 */
import { readFileSync, readdirSync } from 'node:fs';

export interface ProcessRecord {
  name: string;
  pid: number;
  pgid: number;
  /** Clock ticks since boot (field 22 of /proc/<pid>/stat). */
  startTime: number;
}

export interface ProcStat {
  pid: number;
  state: string;
  ppid: number;
  pgid: number;
  startTime: number;
}

export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { pid, state: rest[0]!, ppid: Number(rest[1]), pgid: Number(rest[2]), startTime: Number(rest[19]) };
}

export function recordOf(name: string, pid: number): ProcessRecord {
  const stat = readProcStat(pid);
  return { name, pid, pgid: stat?.pgid ?? pid, startTime: stat?.startTime ?? 0 };
}

/** True while the very process of the record runs (not a zombie, not a recycled pid). */
export function isAlive(record: Pick<ProcessRecord, 'pid' | 'startTime'>): boolean {
  const stat = readProcStat(record.pid);
  return !!stat && stat.state !== 'Z' && (record.startTime === 0 || stat.startTime === record.startTime);
}

/** Pids of the live members of a process group. */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProcStat(Number(entry));
    if (stat && stat.pgid === pgid && stat.state !== 'Z') out.push(stat.pid);
  }
  return out;
}

/** Signals a whole process group; false when it no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

export function signalProcess(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Live (not zombie) pids other than this one whose /proc/<pid>/<file> contains `needle`. */
function scanProc(file: 'cmdline' | 'environ', needle: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const text = readFileSync(`/proc/${entry}/${file}`, 'utf8');
      const stat = readProcStat(Number(entry));
      if (text.includes(needle) && stat && stat.state !== 'Z') out.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return out;
}

/** Pids whose command line contains `needle` (tests use it to find everything a session started). */
export function processesWithArg(needle: string): number[] {
  return scanProc('cmdline', needle);
}

/** Pids whose initial environment has `name=value` (children inherit it; titles do not hide it). */
export function processesWithEnv(name: string, value: string): number[] {
  return scanProc('environ', `${name}=${value}\0`);
}

/** Polls until `done()` holds or the deadline passes; returns whether it held. */
export async function pollUntil(done: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await done()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
