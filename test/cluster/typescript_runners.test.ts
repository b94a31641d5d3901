/**
 * TypeScript drivers as users run them, from a project in a temp dir: `tsx main.ts`, a vitest test
 * file under the project's own vitest config, and `node --loader ts-node/esm main.ts` (tsx, vitest
 * and ts-node linked from this checkout, as an `npm install -D tsx vitest ts-node` would provide them). Both run test/fixtures/typescript/scenario.ts: an
 * inline remote function, an inline actor class with fields and methods, an async function, a task
 * that ships a function of its own (helpers travel again from the worker, and under Vite its
 * `import('rayts')` keeps its specifier), and a closure over an outer variable, refused with a
 * ClosureError naming it. esbuild's `__name` helper (tsx and vite keep names with it) must travel
 * with the code.
 */
import { copyFileSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT, collect, useCluster, type RunResult, type TestCluster } from '../helpers/cluster.js';
import { FIXTURES, makeUserProject, resultOf } from '../helpers/driver.js';

const newCluster = useCluster();

interface ScenarioResult {
  squares: number[];
  counts: number[];
  summary: string;
  actorName: string;
  sum: number;
  nested: number;
  closure: { name: string; variables: string[]; message: string };
}

/** A user project with the TypeScript fixtures and node_modules/{tsx,vitest} linked to this checkout's. */
function typescriptProject(cluster: TestCluster): string {
  const dir = makeUserProject(cluster, 'ts-app');
  for (const file of ['scenario.ts', 'main.ts', 'remote.spec.ts', 'vitest.config.ts', 'tsconfig.json']) {
    copyFileSync(join(FIXTURES, 'typescript', file), join(dir, file));
  }
  for (const tool of ['tsx', 'vitest', 'ts-node']) symlinkSync(join(ROOT, 'node_modules', tool), join(dir, 'node_modules', tool));
  return dir;
}

/** Runs `node [nodeArgs] node_modules/<bin> args` in the project, as `npx` would, outside this vitest
 * run; without a bin, `node nodeArgs args`. */
function runTool(cluster: TestCluster, dir: string, bin: string | undefined, args: string[], address: string, nodeArgs: string[] = []): Promise<RunResult> {
  const env: NodeJS.ProcessEnv = { ...cluster.env, RAYTS_ADDRESS: address };
  // this test runs inside vitest: the project's vitest must not think it is one of our workers
  for (const key of Object.keys(env)) if (key.startsWith('VITEST') || key === 'TEST' || key === 'NODE_ENV') delete env[key];
  const child = spawn(process.execPath, [...nodeArgs, ...(bin ? [join(dir, 'node_modules', bin)] : []), ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  return collect(child, 120_000);
}

function expectScenario(r: ScenarioResult): void {
  expect(r.squares).toEqual([1, 4, 9, 16]);
  expect(r.counts).toEqual([1, 3, 6]);
  expect(r.summary).toBe('c:6:1,3,6:counter');
  expect(r.actorName).toBe('Counter');
  expect(r.sum).toBe(5);
  expect(r.nested).toBe(42);
  expect(r.closure.name).toBe('ClosureError');
  expect(r.closure.variables).toEqual(['factor']);
  expect(r.closure.message).toContain("uses the outer variable 'factor'");
  expect(r.closure.message).toContain("Pass 'factor' as an argument");
}

describe('TypeScript runners', () => {
  it('tsx main.ts, a vitest test file and ts-node (ESM) run inline functions and actor classes on a cluster', async () => {
    const cluster = newCluster();
    const head = await cluster.startHead({ numCpus: 2 });
    const dir = typescriptProject(cluster);

    const tsx = await runTool(cluster, dir, 'tsx/dist/cli.mjs', ['main.ts'], head.gcsAddress);
    expect(tsx.code, tsx.stderr).toBe(0);
    expectScenario(resultOf<ScenarioResult>(tsx));

    const vitest = await runTool(cluster, dir, 'vitest/vitest.mjs', ['run'], head.gcsAddress);
    expect(vitest.code, `${vitest.stdout}\n${vitest.stderr}`).toBe(0);
    expect(vitest.stdout).toMatch(/1 passed/);
    expectScenario(JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as ScenarioResult);

    // ts-node's ESM loader (TypeScript's own emit, in the project's tsconfig.json).
    const tsNode = await runTool(cluster, dir, undefined, ['main.ts'], head.gcsAddress, ['--loader', 'ts-node/esm']);
    expect(tsNode.code, tsNode.stderr).toBe(0);
    expectScenario(resultOf<ScenarioResult>(tsNode));
  });
});
