/**
 * Launching the daemons: each runs detached in its own process group, with stdout/stderr in the
 * session's logs, its pid recorded, and the token only ever passed as a file path. With
 * `passStderr` (a --block supervisor with RAYTS_LOG_TO_STDERR), the daemon's stderr comes through a
 * pipe and is copied both to its .err file and to this process's stderr (so journald gets it). `rayts start`
 * then waits for the daemon's ready file, or reports why it exited.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  DaemonStartError, PortInUseError, VersionMismatchError, AuthenticationError, isAlive, pollUntil, readJson, writePidFile,
  type DaemonName, type ProcessRecord, type SessionPaths,
} from '@rayts/common';

/** The head process: the GCS and, beside it, the HTTP API server. */
export const HEAD_MAIN = fileURLToPath(import.meta.resolve('@rayts/dashboard/main'));
export const RAYLET_MAIN = fileURLToPath(import.meta.resolve('@rayts/raylet/main'));

/** Log base names as Ray uses them: gcs_server.out/.err, raylet.out/.err. */
const LOG_BASE: Record<Exclude<DaemonName, 'supervisor'>, string> = { gcs_server: 'gcs_server', raylet: 'raylet' };

export interface LaunchedDaemon {
  name: Exclude<DaemonName, 'supervisor'>;
  child: ChildProcess;
  record: ProcessRecord;
}

/** The environment daemons get: this one minus secrets (the token travels by file only). */
export function daemonEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out = { ...env };
  delete out.RAYTS_TOKEN;
  return out;
}

export interface LaunchOptions {
  /** Copy the daemon's stderr to this process's stderr as well as to its .err file. */
  passStderr?: boolean;
}

/** Copies what the daemon writes on stderr to its .err file (synchronously, in order) and to ours. */
function teeStderr(child: ChildProcess, errFd: number): void {
  child.stderr!.on('data', (chunk: Buffer) => {
    writeSync(errFd, chunk);
    process.stderr.write(chunk);
  });
  child.stderr!.once('close', () => closeSync(errFd));
}

export function launchDaemon(paths: SessionPaths, name: LaunchedDaemon['name'], script: string, args: string[], options: LaunchOptions = {}): LaunchedDaemon {
  const out = openSync(paths.log(`${LOG_BASE[name]}.out`), 'a');
  const err = openSync(paths.log(`${LOG_BASE[name]}.err`), 'a');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [script, ...args], { detached: true, stdio: ['ignore', out, options.passStderr ? 'pipe' : err], env: daemonEnv() });
  } catch (e) {
    closeSync(err);
    throw e;
  } finally {
    closeSync(out);
  }
  if (options.passStderr && child.stderr) teeStderr(child, err);
  else closeSync(err);
  if (child.pid === undefined) throw new DaemonStartError(`could not start the ${name} process`);
  const record = writePidFile(paths, name, child.pid);
  return { name, child, record };
}

/** The daemon's own one-line explanation, from its stderr file. */
function lastError(paths: SessionPaths, name: LaunchedDaemon['name']): string {
  try {
    const lines = readFileSync(paths.log(`${LOG_BASE[name]}.err`), 'utf8').trim().split('\n');
    const own = lines.filter((l) => l.startsWith(`rayts ${name === 'gcs_server' ? 'head' : 'raylet'}:`) || l.startsWith('  '));
    return (own.length ? own : lines.slice(-5)).join('\n');
  } catch {
    return '';
  }
}

/** Maps a daemon's startup complaint to the error class (and so the exit code and hint). */
function classify(message: string): Error {
  const text = message.replace(/^rayts (head|raylet): /gm, '');
  const [first, ...rest] = text.split('\n');
  const hint = rest.map((l) => l.trim()).filter(Boolean).join(' ') || undefined;
  if (/already in use|not an address of this host/.test(first!)) return new PortInUseError(first!, hint);
  if (/protocol version mismatch/.test(first!)) return new VersionMismatchError(first!, hint);
  if (/token/.test(first!)) return new AuthenticationError(first!, hint);
  return new DaemonStartError(first!, hint);
}

/** Waits until `ready()` gives a value, the daemon exits (its error is thrown), or the timeout passes. */
export async function waitForDaemon<T>(paths: SessionPaths, daemon: LaunchedDaemon, readyFile: string,
  accept: (value: T) => boolean, timeoutMs: number): Promise<T> {
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  // 'close', not 'exit': a piped stderr (passStderr) is then fully in the .err file.
  daemon.child.once('close', (code, signal) => { exited = { code, signal }; });
  let value: T | undefined;
  const ok = await pollUntil(() => {
    const v = readJson<T>(readyFile);
    if (v && accept(v)) { value = v; return true; }
    return !!exited || !isAlive(daemon.record);
  }, timeoutMs, 50);
  if (value) return value;
  const why = lastError(paths, daemon.name);
  if (ok) {
    const how = exited ? (exited.signal ? `was killed by ${exited.signal}` : `exited with code ${exited.code}`) : 'exited';
    throw why ? classify(why) : new DaemonStartError(`the ${daemon.name} process ${how} during start-up`, `see ${paths.log(`${LOG_BASE[daemon.name]}.err`)}`);
  }
  throw new DaemonStartError(`the ${daemon.name} process did not answer within ${Math.round(timeoutMs / 1000)} s`,
    `see ${paths.logs}; raise RAYTS_DAEMON_START_TIMEOUT_S on slow machines`);
}
