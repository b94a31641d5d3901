import { afterEach, beforeEach, describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readProcStat } from './processes.js';
import {
  SessionPaths, createSession, liveDaemons, readPidFile, readSessionInfo, registerSession, registeredSessions, sessionsIn,
  unregisterSession, writeJson, writePidFile,
} from './session.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rayts-test-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const HEAD_INFO = { kind: 'head' as const, nodeIp: '127.0.0.1', gcsAddress: '127.0.0.1:6379' };

/** A session dir as an older `rayts start` would have left it. */
function fakeSession(root: string, name: string): string {
  const sessionDir = path.join(root, name);
  fs.mkdirSync(sessionDir, { recursive: true });
  writeJson(path.join(sessionDir, 'session.json'), { ...HEAD_INFO, sessionName: name, sessionDir, tempDir: root, createdAtMs: 0 });
  return sessionDir;
}

describe('createSession', () => {
  it('creates the directory layout, session.json and session_latest', () => {
    const info = createSession(dir, HEAD_INFO);
    expect(info.sessionName).toMatch(new RegExp(`^session_\\d{4}-\\d{2}-\\d{2}_\\d{2}-\\d{2}-\\d{2}_\\d{3}_${process.pid}$`));
    expect(info.sessionDir).toBe(path.join(dir, info.sessionName));
    expect(info.tempDir).toBe(path.resolve(dir));
    const paths = new SessionPaths(info.sessionDir);
    // Private to the owner, but for the session dir and its sockets dir: the owner's group may enter them.
    for (const sub of [paths.logs, paths.spill, paths.pids]) {
      expect(fs.statSync(sub).isDirectory(), sub).toBe(true);
      expect(fs.statSync(sub).mode & 0o777, sub).toBe(0o700);
    }
    for (const sub of [paths.dir, paths.sockets]) expect(fs.statSync(sub).mode & 0o777, sub).toBe(0o750);
    expect(readSessionInfo(info.sessionDir)).toEqual(info);
    expect(info).toMatchObject(HEAD_INFO);

    const latest = path.join(dir, 'session_latest');
    expect(fs.lstatSync(latest).isSymbolicLink()).toBe(true);
    expect(fs.readlinkSync(latest)).toBe(info.sessionName);
    expect(fs.realpathSync(latest)).toBe(fs.realpathSync(info.sessionDir));
    // No leftover temp link or temp json.
    expect(fs.readdirSync(dir).sort()).toEqual([info.sessionName, 'session_latest'].sort());
    expect(fs.readdirSync(info.sessionDir).sort()).toEqual(['logs', 'pids', 'session.json', 'sockets', 'spill']);
  });

  it('moves session_latest to the newest session', () => {
    const old = 'session_2001-01-01_00-00-00_000_1';
    fakeSession(dir, old);
    fs.symlinkSync(old, path.join(dir, 'session_latest'));
    const info = createSession(dir, HEAD_INFO);
    expect(fs.readlinkSync(path.join(dir, 'session_latest'))).toBe(info.sessionName);
  });
});

describe('sessionsIn', () => {
  it('lists sessions with a session.json, newest first', () => {
    const a = fakeSession(dir, 'session_2001-01-01_00-00-00_000_1');
    const b = fakeSession(dir, 'session_2020-06-15_12-30-00_500_2');
    fs.mkdirSync(path.join(dir, 'session_2021-01-01_00-00-00_000_3')); // no session.json: not a session
    fs.mkdirSync(path.join(dir, 'something_else'));
    const created = createSession(dir, HEAD_INFO);
    expect(sessionsIn(dir)).toEqual([created.sessionDir, b, a]);
  });

  it('is empty for a missing temp dir', () => {
    expect(sessionsIn(path.join(dir, 'nope'))).toEqual([]);
  });
});

describe('pid files', () => {
  it('writePidFile records pid, pgid and start time; readPidFile reads it back', () => {
    const { sessionDir } = createSession(dir, HEAD_INFO);
    const paths = new SessionPaths(sessionDir);
    const record = writePidFile(paths, 'raylet', process.pid);
    const stat = readProcStat(process.pid)!;
    expect(record).toEqual({ name: 'raylet', pid: process.pid, pgid: stat.pgid, startTime: stat.startTime });
    expect(record.startTime).toBeGreaterThan(0);
    expect(readPidFile(paths, 'raylet')).toEqual(record);
    expect(readPidFile(paths, 'gcs_server')).toBeUndefined();
  });

  it('liveDaemons keeps live records in stop order and drops a recycled pid', () => {
    const { sessionDir } = createSession(dir, HEAD_INFO);
    const paths = new SessionPaths(sessionDir);
    expect(liveDaemons(sessionDir)).toEqual([]);
    const head = writePidFile(paths, 'gcs_server', process.pid);
    const raylet = writePidFile(paths, 'raylet', process.pid);
    expect(liveDaemons(sessionDir)).toEqual([raylet, head]);

    // Same pid, different start time: the pid was recycled, the daemon is gone.
    writeJson(paths.pidFile('raylet'), { ...raylet, startTime: raylet.startTime + 1 });
    expect(liveDaemons(sessionDir)).toEqual([head]);

    // A garbage pid file counts as no daemon.
    fs.writeFileSync(paths.pidFile('gcs_server'), '{not json');
    expect(liveDaemons(sessionDir)).toEqual([]);
  });
});

describe('session registry', () => {
  it('registers, lists and unregisters sessions', () => {
    const registry = path.join(dir, 'registry');
    const temp = path.join(dir, 'temp');
    expect(registeredSessions(registry)).toEqual([]);
    const a = createSession(temp, HEAD_INFO).sessionDir;
    const b = fakeSession(temp, 'session_2001-01-01_00-00-00_000_1');
    registerSession(registry, a);
    registerSession(registry, b);
    registerSession(registry, a); // idempotent
    expect(fs.statSync(registry).mode & 0o077).toBe(0);
    expect(registeredSessions(registry).sort()).toEqual([a, b].sort());

    unregisterSession(registry, a);
    expect(registeredSessions(registry)).toEqual([b]);
    unregisterSession(registry, a); // already gone: no error
    expect(registeredSessions(registry)).toEqual([b]);
  });

  it('resolves relative session dirs to one entry', () => {
    const registry = path.join(dir, 'registry');
    const a = fakeSession(dir, 'session_2001-01-01_00-00-00_000_1');
    registerSession(registry, a);
    registerSession(registry, path.relative(process.cwd(), a));
    expect(registeredSessions(registry)).toEqual([a]);
  });

  it('drops registered sessions whose directory no longer exists', () => {
    const registry = path.join(dir, 'registry');
    const keep = fakeSession(dir, 'session_2001-01-01_00-00-00_000_1');
    const gone = fakeSession(dir, 'session_2002-01-01_00-00-00_000_2');
    registerSession(registry, keep);
    registerSession(registry, gone);
    expect(fs.readdirSync(registry)).toHaveLength(2);
    fs.rmSync(gone, { recursive: true });
    expect(registeredSessions(registry)).toEqual([keep]);
    expect(fs.readdirSync(registry)).toHaveLength(1);
    expect(fs.readFileSync(path.join(registry, fs.readdirSync(registry)[0]!), 'utf8').trim()).toBe(keep);
  });
});
