/**
 * DESIGN §4, "a lost put object raises ObjectLostError": a put object's only copy is lost while its
 * owner lives when its spill file is deleted or damaged (disk failure, an operator cleaning /tmp).
 * Then get of the put raises ObjectLostError, a task output in the same situation is rebuilt by
 * re-running its task (lineage), and the raylet keeps serving.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil } from '@rayts/common';
import { TestCluster, alive, collect } from '../helpers/cluster.js';
import { makeUserProject, resultOf } from '../helpers/driver.js';

let cluster: TestCluster;
afterEach(async () => {
  const { leftover } = await cluster.cleanup();
  expect(leftover).toEqual([]);
});

/** rayts-spill-<pid>-<seq>-<count>.bin, oldest first. */
function spillFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const seq = (name: string) => Number(name.split('-')[3]);
  return readdirSync(dir).filter((n) => n.startsWith('rayts-spill-')).sort((a, b) => seq(a) - seq(b)).map((n) => join(dir, n));
}

describe('objects whose spilled copy is lost', () => {
  it('get of a put whose spill file was deleted raises ObjectLostError; a task output whose file was truncated is re-run; the raylet keeps serving', async () => {
    cluster = new TestCluster();
    const spillDir = join(cluster.root, 'spill');
    const head = await cluster.startHead({ numCpus: 1, args: ['--object-store-memory=128MiB', `--object-spilling-directory=${spillDir}`] });
    const dir = makeUserProject(cluster);
    const runs = join(cluster.root, 'runs');
    const proceed = join(cluster.root, 'proceed');
    // Objects are 32 MiB, each spill file holds one (the store aims for files of a tenth of its size).
    // The put and the task output are the two least recently used, so they are spilled first.
    writeFileSync(join(dir, 'main.mjs'), `
      import * as ray from 'rayts';
      import { createHash } from 'node:crypto';
      import { existsSync } from 'node:fs';
      await ray.init({ address: ${JSON.stringify(head.gcsAddress)} });
      const hash = (a) => createHash('sha256').update(a).digest('hex');
      const pattern = (seed) => { const a = new Uint8Array(32 * 1024 * 1024); for (let j = 0; j < a.length; j += 4093) a[j] = (seed * 31 + j) & 255; return a; };
      const make = ray.remote(async (seed, runsFile) => {
        const fs = await import('node:fs');
        fs.appendFileSync(runsFile, 'ran\\n');
        const a = new Uint8Array(32 * 1024 * 1024);
        for (let j = 0; j < a.length; j += 4093) a[j] = (seed * 31 + j) & 255;
        return a;
      });
      const putRef = await ray.put(pattern(1));
      const taskRef = make.remote(2, ${JSON.stringify(runs)});
      await ray.wait([taskRef]);
      const fillers = [];
      for (let i = 0; i < 4; i++) fillers.push(await ray.put(pattern(10 + i)));
      console.log('READY');
      const deadline = Date.now() + 60000;
      while (!existsSync(${JSON.stringify(proceed)})) {
        if (Date.now() > deadline) throw new Error('the test never said proceed');
        await new Promise((r) => setTimeout(r, 20));
      }
      let putError;
      try { await ray.get(putRef); } catch (e) { putError = { cls: e.constructor.name, message: e.message, hint: e.hint }; }
      const rebuilt = hash(await ray.get(taskRef));
      const later = pattern(99);
      const laterBack = hash(await ray.get(await ray.put(later)));
      await ray.shutdown();
      console.log('RESULT ' + JSON.stringify({ putError, putId: putRef.id, taskOk: rebuilt === hash(pattern(2)), laterOk: laterBack === hash(later) }));
    `);
    const driver = spawn(process.execPath, ['main.mjs'], { cwd: dir, env: cluster.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    driver.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    const done = collect(driver, 180_000);

    expect(await pollUntil(() => stdout.includes('READY') && spillFiles(spillDir).length >= 2, 90_000)).toBe(true);
    const [putFile, taskFile] = spillFiles(spillDir) as [string, string];
    unlinkSync(putFile);
    truncateSync(taskFile, 1024 * 1024);
    writeFileSync(proceed, '');

    const run = await done;
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf(run);
    expect(r.putError?.cls).toBe('ObjectLostError');
    expect(r.putError.message).toContain(`object ${r.putId} (32.00MiB) was spilled to ${putFile}, but that file is missing`);
    expect(r.putError.message).toContain('It was created by put, so it cannot be rebuilt');
    expect(r.putError.hint).toMatch(/put the value again/);
    expect(r.taskOk).toBe(true);
    expect(readFileSync(runs, 'utf8').trim().split('\n')).toHaveLength(2);
    expect(r.laterOk).toBe(true);

    expect(alive(head.rayletPid)).toBe(true);
    const status = await cluster.rayts(['status', `--temp-dir=${head.tempDir}`]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('Active:');
    const logs = join(head.sessionDir, 'logs');
    const rayletLog = readdirSync(logs).filter((n) => n.startsWith('raylet')).map((n) => readFileSync(join(logs, n), 'utf8')).join('');
    expect(rayletLog).toContain('spilled object lost');
  });
});
