import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterRecords, groupName, userName, type ClusterRecord, type RecordHost } from './cluster_record.js';

const me = process.getuid!();
const isRoot = me === 0;

/** The host as the records see it: this uid, and the pids listed in `running` alive as their uid. */
function host(running: Map<number, number>, warnings: string[] = []): RecordHost {
  return { uid: () => me, running: (pid, _start, uid) => running.get(pid) === uid, warn: (m) => warnings.push(m) };
}

function entry(over: Partial<ClusterRecord> = {}): Omit<ClusterRecord, 'version'> {
  return {
    kind: 'head', address: '127.0.0.1:6379', ownerUser: 'me', ownerUid: me, ownerGroup: 'g', ownerGid: 0,
    sessionDir: '/tmp/x/session_1', tokenFile: '/tmp/x/session_1/token', pid: 100, pidStartTime: 5, startedAtMs: 1, ...over,
  };
}

let root: string;
let dir: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'rayts-records-'));
  dir = join(root, 'clusters');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('ClusterRecords', () => {
  it('creates the directory sticky and world-writable, writes 0644 entries without the token, lists and withdraws them', () => {
    const records = new ClusterRecords(dir, host(new Map([[100, me]])));
    expect(records.publish(entry())).toBe(true);
    expect(statSync(dir).mode & 0o7777).toBe(0o1777);
    const [file] = readdirSync(dir);
    expect(statSync(join(dir, file!)).mode & 0o777).toBe(0o644);
    expect(records.list()).toEqual([{ version: 1, ...entry() }]);
    records.withdraw('/tmp/x/session_1');
    expect(records.list()).toEqual([]);
  });

  it('ignores an entry whose daemon is dead, and removes it when it is this user\'s', () => {
    const running = new Map([[100, me]]);
    const records = new ClusterRecords(dir, host(running));
    records.publish(entry());
    running.delete(100);
    expect(records.list()).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('ignores an entry whose pid runs as another uid than the one it names', () => {
    const records = new ClusterRecords(dir, host(new Map([[100, me + 1]])));
    records.publish(entry());
    expect(records.list()).toEqual([]);
  });

  it('ignores an entry whose file belongs to another user than the one it names (root\'s files are trusted)', () => {
    const running = new Map([[100, 4242]]);
    const records = new ClusterRecords(dir, host(running));
    mkdirSync(dir, { mode: 0o1777 });
    const forged = join(dir, 'forged.json');
    writeFileSync(forged, JSON.stringify({ version: 1, ...entry({ ownerUid: 4242, ownerUser: 'rayts' }) }));
    if (isRoot) {
      // Written by root: trusted whatever owner it names.
      expect(records.list().map((r) => r.ownerUser)).toEqual(['rayts']);
      chownSync(forged, 4243, 4243);
    }
    expect(records.list()).toEqual([]);
    if (isRoot) {
      chownSync(forged, 4242, 4242);
      expect(records.list().map((r) => r.ownerUser)).toEqual(['rayts']);
    }
  });

  it('ignores a symlink, even to a good entry', () => {
    const records = new ClusterRecords(dir, host(new Map([[100, me]])));
    records.publish(entry());
    const [real] = readdirSync(dir);
    const elsewhere = join(root, 'elsewhere.json');
    rmSync(join(dir, real!));
    writeFileSync(elsewhere, JSON.stringify({ version: 1, ...entry() }));
    symlinkSync(elsewhere, join(dir, real!));
    expect(records.list()).toEqual([]);
  });

  it('ignores entries that are not records', () => {
    const records = new ClusterRecords(dir, host(new Map([[100, me]])));
    mkdirSync(dir, { mode: 0o1777 });
    writeFileSync(join(dir, 'a.json'), 'not json');
    writeFileSync(join(dir, 'b.json'), JSON.stringify({ address: '127.0.0.1:1' }));
    expect(records.list()).toEqual([]);
  });

  it('does not write to a directory that is world-writable but not sticky, and warns once saying what to fix', () => {
    const warnings: string[] = [];
    const records = new ClusterRecords(dir, host(new Map([[100, me]]), warnings));
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    expect(records.publish(entry())).toBe(false);
    expect(records.publish(entry({ sessionDir: '/tmp/y/session_2' }))).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('not sticky');
    expect(warnings[0]).toContain(`chmod 1777 ${dir}`);
  });

  it('does not write to a directory of another non-root user', () => {
    const warnings: string[] = [];
    mkdirSync(dir, { mode: 0o1777 });
    chmodSync(dir, 0o1777);
    // As root the directory is given away; otherwise this process pretends to be someone else.
    const owner = isRoot ? 4242 : me;
    if (isRoot) chownSync(dir, owner, owner);
    const records = new ClusterRecords(dir, { ...host(new Map(), warnings), uid: () => owner + 1 });
    expect(records.publish(entry({ ownerUid: owner + 1 }))).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
    expect(warnings[0]).toContain(`belongs to uid ${owner}`);
  });

  it('names users and groups from the databases, or by number', () => {
    expect(userName(0)).toBe('root');
    expect(groupName(0)).toBe('root');
    expect(userName(4_000_000_000)).toBe('4000000000');
  });
});
