/**
 * Objects whose only copy is lost while their owner lives: their spill file is deleted or damaged
 * (disk failure, an operator cleaning /tmp). Then get of a put raises ObjectLostError (a put cannot
 * be rebuilt), a task output in the same situation is rebuilt by re-running its task (lineage), and
 * the raylet keeps serving.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil } from '@rayts/common';
import { alive, collect, useCluster } from '../helpers/cluster.js';
import { makeUserProject, resultOf, spawnDriver } from '../helpers/driver.js';

const newCluster = useCluster();

/** rayts-spill-<pid>-<seq>-<count>.bin, oldest first. */
function spillFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const seq = (name: string) => Number(name.split('-')[3]);
  return readdirSync(dir).filter((n) => n.startsWith('rayts-spill-')).sort((a, b) => seq(a) - seq(b)).map((n) => join(dir, n));
}

describe('objects whose spilled copy is lost', () => {
  it('get of a put whose spill file was deleted raises ObjectLostError; a task output whose file was truncated is re-run; the raylet keeps serving', async () => {
    const cluster = newCluster();
    const spillDir = join(cluster.root, 'spill');
    const head = await cluster.startHead({ numCpus: 1, args: ['--object-store-memory=128MiB', `--object-spilling-directory=${spillDir}`] });
    const dir = makeUserProject(cluster);
    const runs = join(cluster.root, 'runs');
    const proceed = join(cluster.root, 'proceed');
    // Objects are 32 MiB, each spill file holds one (the store aims for files of a tenth of its size).
    // The put and the task output are the two least recently used, so they are spilled first.
    const driver = spawnDriver(cluster, dir, 'objects/lost_spill_files.mjs', { address: head.gcsAddress, runs, proceed });
    let stdout = '';
    driver.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
    const done = collect(driver, 180_000);

    expect(await pollUntil(() => stdout.includes('READY') && spillFiles(spillDir).length >= 2, 90_000)).toBe(true);
    const [putFile, taskFile] = spillFiles(spillDir) as [string, string];
    unlinkSync(putFile);
    truncateSync(taskFile, 1024 * 1024);
    writeFileSync(proceed, '');

    const run = await done;
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf<{ putError?: { cls: string; message: string; hint: string }; putId: string; taskOk: boolean; laterOk: boolean }>(run);
    expect(r.putError?.cls).toBe('ObjectLostError');
    expect(r.putError!.message).toContain(`object ${r.putId} (32.00MiB) was spilled to ${putFile}, but that file is missing`);
    expect(r.putError!.message).toContain('It was created by put, so it cannot be rebuilt');
    expect(r.putError!.hint).toMatch(/put the value again/);
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
