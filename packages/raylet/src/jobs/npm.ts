/**
 * Running npm for a job's working_dir (`npm ci`). The raylet runs the npm that came with its own
 * node (`<bin>/npm` next to `process.execPath`, the npm-cli.js it links to), through that node, so a
 * node's PATH does not decide which npm (or node) installs a job's packages. npm runs in its own
 * process group, so a timeout or the raylet's stop kills it with whatever its scripts started.
 */
import { spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { signalGroup } from '@rayts/common';
import { RuntimeEnvSetupError } from '../errors.js';

export interface NpmRunner {
  /**
   * Runs `npm <args>` in `cwd`, each line it prints (stdout and stderr) to `onLine`; resolves with
   * its exit code (-1 when a signal ended it). An abort kills npm's process group.
   */
  run(args: string[], cwd: string, onLine: (line: string) => void, signal: AbortSignal): Promise<number>;
}

/** The npm-cli.js of the npm installed with this node (`<bin>/npm` or `<prefix>/lib/node_modules/npm`), if any. */
export function findNpmCli(nodePath: string = process.execPath): string | undefined {
  const bin = dirname(nodePath);
  for (const candidate of [join(bin, 'npm'), join(bin, '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js')]) {
    if (!existsSync(candidate)) continue;
    const real = realpathSync(candidate);
    if (real.endsWith('.js')) return real;
  }
  return undefined;
}

/** npm run by a node binary: `<node> <npm-cli.js> …`. */
export class NodeNpm implements NpmRunner {
  constructor(
    /** npm-cli.js (from findNpmCli); undefined when this node has no npm: runs then fail with a clear error. */
    private readonly cliJs: string | undefined,
    private readonly nodePath: string = process.execPath,
  ) {}

  run(args: string[], cwd: string, onLine: (line: string) => void, signal: AbortSignal): Promise<number> {
    if (!this.cliJs) {
      return Promise.reject(new RuntimeEnvSetupError(`npm was not found next to node (${this.nodePath}): the working_dir has a package-lock.json and needs \`npm ci\``,
        undefined, undefined, 'install npm with node on every node, or set "npm": false in the runtime env and ship node_modules another way'));
    }
    return new Promise((resolve, reject) => {
      const child = spawn(this.nodePath, [this.cliJs!, ...args], {
        cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
        // Lifecycle scripts find the same node first; npm's update check would only add noise.
        env: { ...process.env, PATH: `${dirname(this.nodePath)}:${process.env.PATH ?? ''}`, npm_config_update_notifier: 'false' },
      });
      const kill = () => { if (child.pid) signalGroup(child.pid, 'SIGKILL'); };
      signal.addEventListener('abort', kill, { once: true });
      for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream, crlfDelay: Infinity }).on('line', onLine);
      child.once('error', (err) => {
        signal.removeEventListener('abort', kill);
        reject(new RuntimeEnvSetupError(`could not start npm (${this.cliJs}): ${err.message}`));
      });
      child.once('close', (code) => {
        signal.removeEventListener('abort', kill);
        // Scripts npm started and left behind go with it.
        if (child.pid) signalGroup(child.pid, 'SIGKILL');
        resolve(code ?? -1);
      });
    });
  }
}

/** npm's output kept for an error message: its first lines (npm says what is wrong there) and its last. */
const OUTPUT_HEAD_LINES = 15;
const OUTPUT_TAIL_LINES = 15;

/** The first and last lines of a long output, with how many were left out between. */
export class OutputExcerpt {
  private readonly head: string[] = [];
  private readonly tail: string[] = [];
  private skipped = 0;

  add(line: string): void {
    if (this.head.length < OUTPUT_HEAD_LINES) { this.head.push(line); return; }
    this.tail.push(line);
    if (this.tail.length > OUTPUT_TAIL_LINES) { this.tail.shift(); this.skipped += 1; }
  }

  toString(): string {
    return [...this.head, ...(this.skipped > 0 ? [`… (${this.skipped} lines left out)`] : []), ...this.tail].join('\n');
  }
}
