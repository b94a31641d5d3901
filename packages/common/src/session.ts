/**
 * Session directories: `<temp-dir>/session_<time>_<pid>/` with logs/, sockets/, spill/,
 * pids/, the token, and ready files the daemons write once they answer. A host-wide registry lists
 * every session this user started, so `rayts stop` finds clusters whatever --temp-dir they used.
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import type { Config } from './config.js';
import { isAlive, recordOf, type ProcessRecord } from './processes.js';

export type NodeKind = 'head' | 'worker';

/** Session dir and sockets dir: the owner's group may enter them (to reach the node's sockets). */
export const SHARED_DIR_MODE = 0o750;
/** The node's local sockets and its object-store arena: the owner and its group (who must also hold the token). */
export const SHARED_FILE_MODE = 0o660;
export type DaemonName = 'gcs_server' | 'raylet' | 'supervisor';

/** Written by `rayts start` when it creates the session. */
export interface SessionInfo {
  sessionName: string;
  sessionDir: string;
  tempDir: string;
  kind: NodeKind;
  nodeIp: string;
  /** Head address the raylet registers with (HOST:PORT). */
  gcsAddress: string;
  createdAtMs: number;
}

/** Written by the head when it listens. */
export interface HeadReady {
  pid: number;
  address: string;
  port: number;
  clusterId: string;
  stateDir: string;
  /** Base URL of the head's HTTP API server; absent when it runs without one (--include-dashboard=false). */
  dashboardUrl?: string;
  /** The port remote drivers connect to (`rayts://ADDRESS_HOST:clientPort`); absent from heads of older releases. */
  clientPort?: number;
}

/** Written by the raylet once registered. */
export interface RayletReady {
  pid: number;
  nodeId: string;
  address: string;
  port: number;
  /** The local socket drivers and workers of this node connect to. */
  socketPath: string;
  nodeIp: string;
  gcsAddress: string;
  /** The port of the raylet's Prometheus endpoint (GET /metrics on nodeIp). */
  metricsExportPort: number;
  /** The object store: its size, the shared-memory dir it was meant for and the dir it got (differs after a fallback), the spill dir. */
  objectStoreBytes?: number;
  shmDir?: string;
  /** What backs the store: hugetlb, thp or 4k (page_mode.ts of the object store). */
  arenaPageMode?: string;
  arenaDir?: string;
  spillDir?: string;
  /** The arena can be mapped by the owner's group (RAYTS_OBJECT_STORE_SHARE_WITH_GROUP), not only by the owner. */
  arenaShared?: boolean;
}

export class SessionPaths {
  constructor(readonly dir: string) {}
  get logs(): string { return join(this.dir, 'logs'); }
  get sockets(): string { return join(this.dir, 'sockets'); }
  get spill(): string { return join(this.dir, 'spill'); }
  get pids(): string { return join(this.dir, 'pids'); }
  get info(): string { return join(this.dir, 'session.json'); }
  get token(): string { return join(this.dir, 'token'); }
  get headReady(): string { return join(this.dir, 'head.json'); }
  get rayletReady(): string { return join(this.dir, 'raylet.json'); }
  get exitLog(): string { return join(this.logs, 'ray_process_exit.log'); }
  /** Unix socket paths are limited to 107 bytes: long session paths use a hashed name in the OS temp dir. */
  get rayletSocket(): string {
    return this.socket('raylet.sock');
  }
  /** A socket of the session (the raylet's, an actor worker's), hashed into the OS temp dir when the path is too long. */
  socket(name: string): string {
    const path = join(this.sockets, name);
    if (Buffer.byteLength(path) <= 100) return path;
    const key = name === 'raylet.sock' ? this.dir : `${this.dir}/${name}`;
    return join(tmpdir(), `rayts-${createHash('sha256').update(key).digest('hex').slice(0, 16)}.sock`);
  }
  pidFile(name: DaemonName): string { return join(this.pids, `${name}.pid`); }
  log(file: string): string { return join(this.logs, file); }
}

function stamp(date: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}_${p(date.getHours())}-${p(date.getMinutes())}-${p(date.getSeconds())}_${p(date.getMilliseconds(), 3)}`;
}

export function createSession(tempDir: string, info: Omit<SessionInfo, 'sessionName' | 'sessionDir' | 'tempDir' | 'createdAtMs'>): SessionInfo {
  const root = resolve(tempDir);
  const now = new Date();
  const sessionName = `session_${stamp(now)}_${process.pid}`;
  const paths = new SessionPaths(join(root, sessionName));
  // The temp dir can be crossed by everyone (what it holds is guarded by the modes below); the
  // session dir and its sockets dir are open to the owner's group, whose members may run drivers
  // here with the token; logs, spill files, pids and the token stay the owner's.
  if (!existsSync(root)) mkdirSync(root, { recursive: true, mode: 0o755 });
  for (const [dir, mode] of [[paths.dir, SHARED_DIR_MODE], [paths.sockets, SHARED_DIR_MODE], [paths.logs, 0o700], [paths.spill, 0o700], [paths.pids, 0o700]] as const) {
    mkdirSync(dir, { recursive: true, mode });
    chmodSync(dir, mode);
  }
  const full: SessionInfo = { ...info, sessionName, sessionDir: paths.dir, tempDir: root, createdAtMs: now.getTime() };
  writeJson(paths.info, full);
  const latest = join(root, 'session_latest');
  const tmpLink = `${latest}.${process.pid}`;
  rmSync(tmpLink, { force: true });
  symlinkSync(sessionName, tmpLink);
  renameSync(tmpLink, latest);
  return full;
}

export function writeJson(path: string, value: unknown, mode = 0o644): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n', { mode });
  renameSync(tmp, path);
}

export function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export function readSessionInfo(sessionDir: string): SessionInfo | undefined {
  return readJson<SessionInfo>(new SessionPaths(sessionDir).info);
}

/** Session directories under a temp dir, newest first. */
export function sessionsIn(tempDir: string): string[] {
  const root = resolve(tempDir);
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((n) => /^session_\d{4}-/.test(n) && existsSync(join(root, n, 'session.json')))
    .sort()
    .reverse()
    .map((n) => join(root, n));
}

export function writePidFile(paths: SessionPaths, name: DaemonName, pid: number): ProcessRecord {
  const record = recordOf(name, pid);
  writeJson(paths.pidFile(name), record);
  return record;
}

export function readPidFile(paths: SessionPaths, name: DaemonName): ProcessRecord | undefined {
  return readJson<ProcessRecord>(paths.pidFile(name));
}

/** The daemons of a session that still run, in stop order (raylet first, head last). */
export function liveDaemons(sessionDir: string): ProcessRecord[] {
  const paths = new SessionPaths(sessionDir);
  const order: DaemonName[] = ['raylet', 'gcs_server', 'supervisor'];
  return order.map((n) => readPidFile(paths, n)).filter((r): r is ProcessRecord => !!r && isAlive(r));
}

export function defaultRegistryDir(configured: string): string {
  if (configured) return configured;
  let uid = 'user';
  try { uid = String(userInfo().uid); } catch { /* no passwd entry */ }
  return join(tmpdir(), `rayts-registry-${uid}`);
}

function registryKey(sessionDir: string): string {
  return createHash('sha256').update(resolve(sessionDir)).digest('hex').slice(0, 24);
}

export function registerSession(registryDir: string, sessionDir: string): void {
  mkdirSync(registryDir, { recursive: true, mode: 0o700 });
  writeFileSync(join(registryDir, registryKey(sessionDir)), resolve(sessionDir) + '\n', { mode: 0o600 });
}

export function unregisterSession(registryDir: string, sessionDir: string): void {
  rmSync(join(registryDir, registryKey(sessionDir)), { force: true });
}

/** Registered session dirs that still exist on disk. */
export function registeredSessions(registryDir: string): string[] {
  if (!existsSync(registryDir)) return [];
  const out: string[] = [];
  for (const key of readdirSync(registryDir)) {
    try {
      const dir = readFileSync(join(registryDir, key), 'utf8').trim();
      if (existsSync(join(dir, 'session.json'))) out.push(dir);
      else rmSync(join(registryDir, key), { force: true });
    } catch {
      // another stop removed it meanwhile
    }
  }
  return out;
}

/** The head address a session points at (the head's own ready file wins: it knows the bound port). */
export function sessionGcsAddress(info: SessionInfo): string {
  const head = readJson<HeadReady>(new SessionPaths(info.sessionDir).headReady);
  return head?.address ?? info.gcsAddress;
}

/** Sessions of this host with at least one live daemon. */
export function liveSessions(config: Pick<Config, 'registryDir' | 'tmpDir'>, tempDir?: string): SessionInfo[] {
  const dirs = tempDir
    ? sessionsIn(tempDir)
    : [...new Set([...registeredSessions(defaultRegistryDir(config.registryDir)), ...sessionsIn(config.tmpDir)].map((d) => resolve(d)))];
  return dirs.filter((d) => liveDaemons(d).length > 0).map((d) => readSessionInfo(d)).filter((s): s is SessionInfo => !!s);
}

