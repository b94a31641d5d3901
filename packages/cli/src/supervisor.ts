/**
 * `--block`: stay in the foreground as the supervisor of the daemons this command started.
 * A daemon that exits with anything but 0 or SIGTERM is reported and written to
 * ray_process_exit.log, the others are stopped, and the command exits 1 so systemd restarts the node.
 * SIGTERM/SIGINT to the supervisor stops everything and exits 0.
 */
import { appendFileSync } from 'node:fs';
import { isAlive, recordOf, writePidFile, type Config, type SessionPaths } from '@rayts/common';
import type { LaunchedDaemon } from './daemons.js';
import { stopProcesses, sweepWorkers } from './stopper.js';

const GRACEFUL_CODES = new Set([0, 143]);

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `killed by ${signal}` : `exit code=${code}`;
}

export function supervise(paths: SessionPaths, daemons: LaunchedDaemon[], config: Config, watchPid?: number): Promise<number> {
  return new Promise((resolve) => {
    let finishing = false;
    const running = new Set(daemons);
    const finish = async (code: number) => {
      if (finishing) return;
      finishing = true;
      await stopProcesses(daemons.filter((d) => running.has(d)).map((d) => d.record), config.stopGracePeriodS * 1000, false);
      await sweepWorkers(paths.dir);
      resolve(code);
    };
    for (const d of daemons) {
      d.child.on('exit', (code, signal) => {
        running.delete(d);
        if (finishing) return;
        const graceful = signal === 'SIGTERM' || (code !== null && GRACEFUL_CODES.has(code));
        if (!graceful) {
          const line = `  ${d.name} [${describeExit(code, signal)}]`;
          appendFileSync(paths.exitLog, `${new Date().toISOString()} ${d.name} (pid ${d.record.pid}) ${describeExit(code, signal)}\n`);
          process.stderr.write(`Some rayts processes died unexpectedly:\n${line}\nStopping the remaining rayts processes.\n`);
          void finish(1);
        } else if (running.size === 0) {
          void finish(0);
        }
      });
    }
    if (watchPid !== undefined) {
      // A driver's private cluster: it goes when the driver goes, however the driver ended.
      const watched = recordOf('driver', watchPid);
      const timer = setInterval(() => {
        if (!isAlive(watched)) {
          clearInterval(timer);
          void finish(0);
        }
      }, 250);
      timer.unref();
    }
    // `on`, not `once`: a second SIGTERM while stopping must not kill the supervisor half way.
    const onSignal = () => void finish(0);
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    // Only now is the supervisor known by its pid file: `rayts stop`, systemd and tests signal it
    // once they see it, and a SIGTERM before the handlers were in place killed it outright,
    // leaving its daemons running.
    writePidFile(paths, 'supervisor', process.pid);
    process.stderr.write([
      '--block',
      '  This command now blocks and supervises the rayts processes it started.',
      '  Processes that exit by SIGTERM count as stopped on purpose and are not reported;',
      `  unexpected exits are written to ${paths.exitLog}.`,
      '  Press Ctrl-C (or send SIGTERM) to stop them all.',
      '',
    ].join('\n'));
  });
}
