/**
 * CLI entry: runs the program and turns errors into one clear message, a hint and an exit code
 * (0 ok, 1 failure, 2 usage, 3 cluster not running / unreachable).
 */
import { CommanderError } from 'commander';
import { ExitCode, RaytsError } from '@rayts/common';
import { buildProgram } from './program.js';

let exitCode: number = ExitCode.ok;
const program = buildProgram((code) => { exitCode = code; });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // --help and --version end here with code 0; usage mistakes were already printed by commander.
    exitCode = err.exitCode === 0 ? 0 : ExitCode.usage;
  } else if (isNoSpace(err)) {
    // A full disk is the operator's to fix, not a bug: say so instead of a stack (a restart would only fail again).
    process.stderr.write(`Error: no space left on the disk (${(err as Error).message})\n`
      + '  free space on the filesystem of the temp dir (--temp-dir: sessions, logs, and state/gcs.db of a head; `df -h DIR` shows it), then run the command again\n');
    exitCode = ExitCode.failure;
  } else if (err instanceof RaytsError) {
    process.stderr.write(`Error: ${err.message}\n${err.hint ? `  ${err.hint}\n` : ''}`);
    exitCode = err.exitCode;
  } else {
    process.stderr.write(`Error: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    exitCode = ExitCode.failure;
  }
}
process.exitCode = exitCode;

function isNoSpace(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}
