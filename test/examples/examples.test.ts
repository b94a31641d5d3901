/**
 * The programs under examples/ work as a user runs them: compiled with `tsc -p examples` into
 * examples/dist, run with node, each with `ray.init()` starting a private cluster that
 * `ray.shutdown()` stops. Each run gets its own RAYTS_TEST_MARKER, registry and temp dirs (so it
 * never finds another cluster), must exit 0 with its key output lines, and must leave no process
 * behind.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, realpathSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil } from '@rayts/common';
import { ROOT, collect, useCluster, type RunResult, type TestCluster } from '../helpers/cluster.js';

const EXAMPLES = join(ROOT, 'examples');
const DIST = join(EXAMPLES, 'dist');
const NAMES = ['nodes', 'square', 'sum_matrix', 'anonymize_logs', 'counter', 'model_server', 'gang_workers'] as const;
const IPV4 = /\b\d{1,3}(?:\.\d{1,3}){3}\b/;

/**
 * `import 'rayts'` in examples/dist/*.js resolves through the checkout's own package.json
 * (name "rayts" with "exports": Node's package self-reference). examples/node_modules/rayts, a
 * link to the checkout as `npm link rayts` makes, keeps it working for a copy of examples/ that
 * has a package.json of its own.
 */
function ensureRaytsLink(): void {
  const link = join(EXAMPLES, 'node_modules', 'rayts');
  mkdirSync(join(EXAMPLES, 'node_modules'), { recursive: true });
  let stat;
  try { stat = lstatSync(link); } catch { stat = undefined; }
  if (stat?.isSymbolicLink() && (!existsSync(link) || realpathSync(link) !== realpathSync(ROOT))) unlinkSync(link);
  else if (stat) return;
  try {
    symlinkSync('../..', link);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; // another run made it meanwhile
  }
  expect(realpathSync(link), `examples/node_modules/rayts -> ${readlinkSync(link)}`).toBe(realpathSync(ROOT));
}

async function compileExamples(): Promise<void> {
  if (!existsSync(join(ROOT, 'packages/api/dist/index.d.ts'))) throw new Error('packages/api is not built: run `npx tsc -b` first');
  const tsc = spawn(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', EXAMPLES], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const r = await collect(tsc, 90_000);
  expect(r.code, `tsc -p examples failed:\n${r.stdout}\n${r.stderr}`).toBe(0);
}

function describeProcesses(pids: number[]): string[] {
  return pids.map((pid) => {
    try { return `${pid}: ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim()}`; } catch { return `${pid}: (gone)`; }
  });
}

const makeCluster = useCluster({
  async beforeCleanup(c) {
    // The example's own shutdown() must stop everything it started; give it a deadline, then the
    // cleanup kills whatever is left (by process group) and the test fails.
    const clean = await pollUntil(() => c.processes().length === 0, 20_000, 50);
    const remaining = clean ? [] : describeProcesses(c.processes());
    expect(remaining, 'processes left behind after the example exited').toEqual([]);
  },
});

function newCluster(): TestCluster {
  // Keep the private cluster's object store small: the default (30% of RAM) is sized for real work.
  return makeCluster({ RAYTS_OBJECT_STORE_MEMORY_PROPORTION: '0.02' });
}

/** Runs examples/dist/<name>.js from the repo root, as examples/README.md says. */
async function runExample(c: TestCluster, name: (typeof NAMES)[number], args: string[] = [], env: Record<string, string> = {}): Promise<RunResult> {
  const child = spawn(process.execPath, [join(DIST, `${name}.js`), ...args], { cwd: ROOT, env: { ...c.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const run = await collect(child, 110_000);
  expect(run.code, `${name} exited ${run.code} (${run.signal}):\n${run.stdout}\n${run.stderr}`).toBe(0);
  return run;
}

describe('examples/', () => {
  beforeAll(async () => {
    ensureRaytsLink();
    await compileExamples();
  }, 120_000);

  it('compile to self-contained JavaScript (no compiler helpers around remote functions)', () => {
    for (const name of NAMES) {
      const js = readFileSync(join(DIST, `${name}.js`), 'utf8');
      expect(js, name).toMatch(/^import \* as ray from 'rayts';$/m);
      // tsc helpers (__awaiter, __importStar, _a, _this, tslib) would be outer variables of shipped code.
      expect(js.match(/\b__[A-Za-z]\w*\b|\b_(?:[a-z]\d*|this|super)\b|\btslib\b/g) ?? [], name).toEqual([]);
    }
  });

  it('nodes: 100 tasks, counted per node (all on this one)', async () => {
    const run = await runExample(newCluster(), 'nodes');
    expect(run.stdout).toMatch(/^100 tasks ran on 1 node\(s\) in [\d.]+ s:$/m);
    expect(run.stdout).toMatch(/^ {2}127\.0\.0\.1 +100 tasks$/m);
    expect(run.stdout).toContain('total: 100 tasks (ok)');
  }, 150_000);

  it('square: 1000 inputs, sum checked', async () => {
    const run = await runExample(newCluster(), 'square');
    expect(run.stdout).toContain('first squares: 0, 1, 4, 9, 16, 25, 36, 49, 64, 81, ...');
    expect(run.stdout).toContain('sum of squares of 0..999 = 332833500');
    expect(run.stdout).toContain('expected 332833500 (ok)');
  }, 150_000);

  it('sum_matrix: an 8 MB matrix put once, summed by a task from its ref', async () => {
    const run = await runExample(newCluster(), 'sum_matrix');
    expect(run.stdout).toContain('matrix: 1000x1000 doubles, 8000000 bytes, stored once with ray.put');
    expect(run.stdout).toContain('task saw 1000000 doubles (8000000 bytes)');
    const remote = /^remote sum = (\S+)$/m.exec(run.stdout)?.[1];
    const local = /^local sum {2}= (\S+)$/m.exec(run.stdout)?.[1];
    expect(remote).toBeDefined();
    expect(Number.isFinite(Number(remote))).toBe(true);
    expect(remote).toBe(local);
    expect(run.stdout).toContain('sums match (ok)');
  }, 150_000);

  it('counter: the Counter actor, two callers each see their calls in order', async () => {
    const run = await runExample(newCluster(), 'counter');
    expect(run.stdout).toContain('after 10 increments: 10');
    expect(run.stdout).toContain("left: 50 calls, in the caller's order: yes");
    expect(run.stdout).toContain("right: 50 calls, in the caller's order: yes");
    expect(run.stdout).toContain('final value: 110');
    expect(run.stdout).toContain('counter (ok)');
  }, 150_000);

  it('model_server: a model loaded once, 64 requests served with maxConcurrency 4', async () => {
    const run = await runExample(newCluster(), 'model_server');
    expect(run.stdout).toContain('model: 16000000 bytes, loaded once');
    expect(run.stdout).toContain('served 64 requests, 0 wrong');
    expect(run.stdout).toContain('at most 4 requests in progress at once (maxConcurrency 4)');
    expect(run.stdout).toContain('model server (ok)');
  }, 150_000);

  it('gang_workers: one worker actor per bundle of a STRICT_SPREAD group; the group frees its CPUs', async () => {
    const run = await runExample(newCluster(), 'gang_workers');
    expect(run.stdout).toContain('placement group of 1 bundle(s) ready (STRICT_SPREAD over 1 node(s))');
    expect(run.stdout).toMatch(/^ {2}worker 0 on 127\.0\.0\.1: 31249875000$/m);
    expect(run.stdout).toContain('1 workers on 1 distinct node(s); total 31249875000, expected 31249875000');
    expect(run.stdout).toContain('group removed, all CPUs free: yes');
    expect(run.stdout).toContain('gang workers (ok)');
  }, 150_000);

  it('anonymize_logs: one task per CSV file, no original IP in any output', async () => {
    const c = newCluster();
    const logs = c.tempDir('logs'); // LOGS_DIR: the example leaves the files for us to check
    const run = await runExample(c, 'anonymize_logs', ['6', '1500'], { LOGS_DIR: logs });
    expect(run.stdout).toMatch(/^generated 6 files x 1500 lines \(\d+ distinct client IPs\) in /m);
    for (let i = 0; i < 6; i++) expect(run.stdout).toMatch(new RegExp(`access-00${i}\\.csv -> access-00${i}\\.anon\\.csv: 1500 rows, \\d+ distinct IPs masked`));
    expect(run.stdout).toMatch(/^anonymized 6 files, 9000 rows: (\d+) distinct IPs -> \1 distinct tokens$/m);
    expect(run.stdout).toContain('no original IP appears in any output (ok)');

    // Check the outputs independently of the example's own checks.
    const inputs = readdirSync(logs).filter((f) => /^access-\d+\.csv$/.test(f)).sort();
    const outputs = readdirSync(logs).filter((f) => f.endsWith('.anon.csv')).sort();
    expect(outputs).toEqual(inputs.map((f) => f.replace(/\.csv$/, '.anon.csv')));
    const tokenOf = new Map<string, string>();
    const originals = new Set<string>();
    for (const input of inputs) {
      const before = readFileSync(join(logs, input), 'utf8').trimEnd().split('\n');
      const text = readFileSync(join(logs, input.replace(/\.csv$/, '.anon.csv')), 'utf8');
      expect(text, input).not.toMatch(IPV4);
      const after = text.trimEnd().split('\n');
      expect(after[0]).toBe('timestamp,ip,path,status');
      expect(after.length).toBe(1501);
      for (let i = 1; i < before.length; i++) {
        const [t0, ip, p0, s0] = before[i]!.split(',');
        const [t1, token, p1, s1] = after[i]!.split(',');
        expect([t1, p1, s1]).toEqual([t0, p0, s0]);
        expect(token).toMatch(/^ip-[0-9a-f]{16}$/);
        // One IP, one token, in every file.
        expect(tokenOf.get(ip!) ?? token).toBe(token);
        tokenOf.set(ip!, token!);
        originals.add(ip!);
      }
    }
    expect(new Set(tokenOf.values()).size).toBe(originals.size);
    for (const output of outputs) {
      const text = readFileSync(join(logs, output), 'utf8');
      for (const ip of originals) expect(text.includes(ip), `${output} contains ${ip}`).toBe(false);
    }
  }, 150_000);
});
