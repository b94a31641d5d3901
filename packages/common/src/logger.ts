/**
 * JSON-lines logger. Each daemon writes `<session>/logs/<component>.log`, one object per line:
 * {"ts":"…","level":"info","component":"raylet","msg":"…", …fields}. Writes are synchronous so that
 * the last lines before a crash are on disk. Secrets are never passed to it (the token is not a field
 * anywhere); `redact` is a second line of defence for values that look like a bearer header.
 */
import { closeSync, fstatSync, openSync, renameSync, writeSync, existsSync, rmSync } from 'node:fs';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  close(): void;
}

export interface FileLoggerOptions {
  path: string;
  component: string;
  level?: LogLevel;
  maxBytes?: number;
  backupCount?: number;
  /** Also echo lines to stderr (used by --block supervisors and tests). */
  echo?: boolean;
}

function redact(text: string): string {
  return text.replace(/(bearer\s+)[0-9a-f]{16,}/gi, '$1<redacted>');
}

function serializeField(value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  return value;
}

export class FileLogger implements Logger {
  private fd: number;
  private written: number;
  private readonly threshold: number;

  constructor(private readonly options: FileLoggerOptions) {
    this.fd = openSync(options.path, 'a', 0o644);
    this.written = fstatSync(this.fd).size;
    this.threshold = LEVELS[options.level ?? 'info'];
  }

  debug(msg: string, fields?: Record<string, unknown>): void { this.write('debug', msg, fields); }
  info(msg: string, fields?: Record<string, unknown>): void { this.write('info', msg, fields); }
  warn(msg: string, fields?: Record<string, unknown>): void { this.write('warn', msg, fields); }
  error(msg: string, fields?: Record<string, unknown>): void { this.write('error', msg, fields); }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private write(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (LEVELS[level] < this.threshold || this.fd < 0) return;
    const record: Record<string, unknown> = { ts: new Date().toISOString(), level, component: this.options.component, msg };
    for (const [k, v] of Object.entries(fields ?? {})) record[k] = serializeField(v);
    const line = redact(JSON.stringify(record)) + '\n';
    this.written += writeSync(this.fd, line);
    if (this.options.echo) process.stderr.write(line);
    if (this.options.maxBytes && this.written > this.options.maxBytes) this.rotate();
  }

  private rotate(): void {
    const { path, backupCount = 5 } = this.options;
    closeSync(this.fd);
    if (backupCount > 0) {
      if (existsSync(`${path}.${backupCount}`)) rmSync(`${path}.${backupCount}`);
      for (let i = backupCount - 1; i >= 1; i--) if (existsSync(`${path}.${i}`)) renameSync(`${path}.${i}`, `${path}.${i + 1}`);
      renameSync(path, `${path}.1`);
    } else {
      rmSync(path);
    }
    this.fd = openSync(path, 'a', 0o644);
    this.written = 0;
  }
}

/** A logger that drops everything (for library code used outside a daemon). */
export const nullLogger: Logger = { debug() {}, info() {}, warn() {}, error() {}, close() {} };
