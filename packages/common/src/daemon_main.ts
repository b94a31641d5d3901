/**
 * What the head's and the raylet's entry points share: the session directory, the process title
 * that `ps` shows, the config, the component log, a one-line error (with a hint) on stderr and exit 1
 * when the start fails, an unexpected error logged before the exit, and a stop on SIGTERM/SIGINT.
 */
import { loadConfig, type Config } from './config.js';
import { RaytsError } from './errors.js';
import { FileLogger, type LogLevel } from './logger.js';
import { SessionPaths } from './session.js';

export interface DaemonContext {
  sessionDir: string;
  paths: SessionPaths;
  config: Config;
  logger: FileLogger;
  /** Prints `rayts <role>: message` (and the hint) to stderr and exits 1. */
  fail(message: string, hint?: string): never;
}

export interface DaemonSpec {
  /** As the messages name it: `head`, `raylet`. */
  role: string;
  /** The process title's first word (`rayts-gcs-server`). */
  title: string;
  /** The log file's component (`gcs_server` → logs/gcs_server.log). */
  component: string;
  sessionDir: string | undefined;
  start(ctx: DaemonContext): Promise<{ stop(signal: string): Promise<void> }>;
}

/**
 * The JSON-lines log `<session>/logs/<component>.log`, with the level and rotation the config sets;
 * with RAYTS_LOG_TO_STDERR each line also goes to stderr (journald under a --block supervisor).
 */
export function componentLogger(paths: SessionPaths, component: string, config: Config): FileLogger {
  return new FileLogger({
    path: paths.log(`${component}.log`), component, level: config.logLevel as LogLevel,
    maxBytes: config.logMaxBytes, backupCount: config.logBackupCount, echo: config.logToStderr,
  });
}

export async function runDaemon(spec: DaemonSpec): Promise<void> {
  const fail = (message: string, hint?: string): never => {
    process.stderr.write(`rayts ${spec.role}: ${message}${hint ? `\n  ${hint}` : ''}\n`);
    process.exit(1);
  };
  const sessionDir = spec.sessionDir ?? fail('--session-dir is required');
  const paths = new SessionPaths(sessionDir);
  // ps shows the role and the session (the argv area is overwritten by the title).
  process.title = `${spec.title} --session-dir ${sessionDir}`;
  const config = loadConfig();
  // A --block supervisor that passes our stderr through may die first: its pipe's EPIPE must not kill us.
  if (config.logToStderr) process.stderr.on('error', () => undefined);
  const logger = componentLogger(paths, spec.component, config);
  // An error nobody expected still ends the daemon (its state can no longer be trusted), but never
  // silently: its log says what it was, and the stack goes to stderr (the .err file) as before.
  process.on('uncaughtException', (err, origin) => {
    try { logger.error(`${spec.role} is exiting on an unexpected error`, { err, origin }); } catch { /* the log's disk may be full */ }
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
  try {
    const daemon = await spec.start({ sessionDir, paths, config, logger, fail });
    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info('stopping', { signal });
      void daemon.stop(signal).finally(() => { logger.close(); process.exit(0); });
    };
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
  } catch (err) {
    logger.error(`${spec.role} failed to start`, { err });
    if (err instanceof RaytsError) fail(err.message, err.hint);
    throw err;
  }
}
