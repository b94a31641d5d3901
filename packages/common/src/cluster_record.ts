/**
 * The machine-wide record of the rayts nodes running on this host, read by every user's CLI and
 * driver: a directory (default `<os tmp>/rayts-clusters`, mode 01777 like /tmp) with one JSON file
 * per session (mode 0644, written tmp + rename by the session's owner, removed at stop). It holds
 * where the cluster answers and whose it is, never the token.
 *
 * Readers trust an entry only when the file is a regular file (O_NOFOLLOW + fstat: no symlinks) owned by the uid
 * it records (or by root), and its daemon still runs as that uid (pid + start time, /proc/<pid>
 * owned by the uid). A directory that is not sticky or belongs to another non-root user is not
 * written to (one warning saying what to fix); its entries pass the same owner checks.
 */
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, constants as fsConstants, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { isAlive } from './processes.js';
import type { NodeKind } from './session.js';

export const CLUSTER_RECORD_VERSION = 1;

export interface ClusterRecord {
  version: number;
  /** A head node or a worker node (of a cluster whose head may run elsewhere). */
  kind: NodeKind;
  /** The cluster's GCS address (HOST:PORT). */
  address: string;
  /** Base URL of the head's HTTP API (head records only, when it has one). */
  dashboardUrl?: string;
  ownerUser: string;
  ownerUid: number;
  ownerGroup: string;
  ownerGid: number;
  sessionDir: string;
  /** Where the token is (mode 0600: readable by the owner and root only). */
  tokenFile: string;
  /** The session's main daemon: the head (GCS) of a head node, the raylet of a worker node. */
  pid: number;
  /** Its start time in clock ticks since boot (guards against a recycled pid). */
  pidStartTime: number;
  startedAtMs: number;
}

/** Who runs this process, as the record names owners. */
export interface Owner {
  user: string;
  uid: number;
  group: string;
  gid: number;
}

/** The name of an id in a colon-separated database (/etc/passwd, /etc/group; the id as text when it has none). */
function nameOf(id: number, file: string): string {
  try {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const [name, , value] = line.split(':');
      if (name && Number(value) === id) return name;
    }
  } catch {
    /* no such database */
  }
  return String(id);
}

export function groupName(gid: number, groupFile = '/etc/group'): string {
  return nameOf(gid, groupFile);
}

export function userName(uid: number, passwdFile = '/etc/passwd'): string {
  return nameOf(uid, passwdFile);
}

export function currentOwner(): Owner {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  let user = String(uid);
  try { user = userInfo().username; } catch { /* no passwd entry */ }
  return { user, uid, group: groupName(gid), gid };
}

export function defaultClustersDir(configured: string): string {
  return configured || join(tmpdir(), 'rayts-clusters');
}

/** What a process may see of the files and processes of this host (the real thing outside unit tests). */
export interface RecordHost {
  /** The uid of the calling process. */
  uid(): number;
  /** True while the recorded daemon runs as `uid`. */
  running(pid: number, startTime: number, uid: number): boolean;
  warn(message: string): void;
}

export const realRecordHost: RecordHost = {
  uid: () => process.getuid?.() ?? 0,
  running(pid, startTime, uid) {
    if (!isAlive({ pid, startTime })) return false;
    try {
      return statSync(`/proc/${pid}`).uid === uid;
    } catch {
      return false;
    }
  },
  warn: (message) => process.stderr.write(`Warning: ${message}\n`),
};

const STICKY = 0o1000;

function fileKey(sessionDir: string): string {
  return `${createHash('sha256').update(resolve(sessionDir)).digest('hex').slice(0, 24)}.json`;
}

function isRecord(v: unknown): v is ClusterRecord {
  const r = v as ClusterRecord;
  return !!r && typeof r === 'object' && (r.kind === 'head' || r.kind === 'worker') && typeof r.address === 'string'
    && typeof r.ownerUser === 'string' && Number.isInteger(r.ownerUid) && typeof r.ownerGroup === 'string' && Number.isInteger(r.ownerGid)
    && typeof r.sessionDir === 'string' && typeof r.tokenFile === 'string' && Number.isInteger(r.pid) && r.pid > 0
    && Number.isInteger(r.pidStartTime) && (r.dashboardUrl === undefined || typeof r.dashboardUrl === 'string');
}

export class ClusterRecords {
  private warned = false;

  constructor(readonly dir: string, private readonly host: RecordHost = realRecordHost) {}

  /**
   * Why this process must not write to the directory (undefined: it may). Creates it (01777) when
   * it does not exist.
   */
  private unwritable(): string | undefined {
    let st;
    try {
      st = lstatSync(this.dir);
    } catch {
      try {
        mkdirSync(this.dir, { recursive: true, mode: 0o1777 });
        chmodSync(this.dir, 0o1777);
        st = lstatSync(this.dir);
      } catch (err) {
        return `cannot create ${this.dir} (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
      }
    }
    if (!st.isDirectory()) return `${this.dir} is not a directory`;
    if (st.uid !== 0 && st.uid !== this.host.uid()) return `${this.dir} belongs to uid ${st.uid}, another user, who could remove the entries of others`;
    if ((st.mode & 0o002) !== 0 && (st.mode & STICKY) === 0) return `${this.dir} is writable by everyone but not sticky, so anyone could remove the entries of others`;
    return undefined;
  }

  private warnOnce(problem: string): void {
    if (this.warned) return;
    this.warned = true;
    this.host.warn(`this cluster is not listed in the host's record of clusters, so other users will not find it: ${problem}. `
      + `Fix: \`sudo chown root:root ${this.dir} && sudo chmod 1777 ${this.dir}\` (or set RAYTS_CLUSTERS_DIR to such a directory)`);
  }

  /** Lists a session for every user of this host; false (after one warning) when the directory is not safe to write. */
  publish(record: Omit<ClusterRecord, 'version'>): boolean {
    const problem = this.unwritable();
    if (problem) {
      this.warnOnce(problem);
      return false;
    }
    const path = join(this.dir, fileKey(record.sessionDir));
    const tmp = `${path}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, JSON.stringify({ version: CLUSTER_RECORD_VERSION, ...record }, null, 2) + '\n', { mode: 0o644 });
      chmodSync(tmp, 0o644);
      renameSync(tmp, path);
      return true;
    } catch (err) {
      rmSync(tmp, { force: true });
      this.warnOnce(`cannot write ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
      return false;
    }
  }

  /** Removes a session's entry (only its owner or root can: the directory is sticky). */
  withdraw(sessionDir: string): void {
    try {
      rmSync(join(this.dir, fileKey(sessionDir)), { force: true });
    } catch {
      /* another user's entry in a sticky dir: not ours to remove */
    }
  }

  /** The trusted entries whose daemon runs; entries of this user that are dead are removed. */
  list(): ClusterRecord[] {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((n) => n.endsWith('.json'));
    } catch {
      return [];
    }
    const out: ClusterRecord[] = [];
    for (const name of names.sort()) {
      const path = join(this.dir, name);
      const record = this.trusted(path);
      if (!record) continue;
      if (this.host.running(record.pid, record.pidStartTime, record.ownerUid)) out.push(record);
      else if (record.ownerUid === this.host.uid()) rmSync(path, { force: true });
    }
    return out;
  }

  private trusted(path: string): ClusterRecord | undefined {
    let fd: number | undefined;
    try {
      // O_NOFOLLOW + fstat: the file checked is the file read (a symlink, or a swap in between, is refused).
      fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
      const st = fstatSync(fd);
      if (!st.isFile()) return undefined;
      const record: unknown = JSON.parse(readFileSync(fd, 'utf8'));
      if (!isRecord(record)) return undefined;
      if (st.uid !== record.ownerUid && st.uid !== 0) return undefined;
      return record;
    } catch {
      return undefined;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
}
