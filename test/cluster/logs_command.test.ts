/**
 * `rayts logs`: `--follow` streams lines as they are written, and files are addressed only by the
 * node's listing (a path is not found).
 */
import { describe, expect, it } from 'vitest';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil } from '@rayts/common';
import { collect, useCluster } from '../helpers/cluster.js';

const newCluster = useCluster();

describe('rayts logs --follow', () => {
  it('prints new lines of a file as they are appended', async () => {
    const cluster = newCluster();
    const head = await cluster.startHead({ numCpus: 1 });
    const file = join(head.sessionDir, 'logs', 'raylet.out');
    appendFileSync(file, 'before-follow\n');
    const child = cluster.spawnRayts(['logs', 'raylet.out', '--follow', '--tail=1', `--temp-dir=${head.tempDir}`]);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    const done = collect(child);
    expect(await pollUntil(() => out.includes('before-follow'), 20_000)).toBe(true);
    appendFileSync(file, 'after-follow-1\nafter-follow-2\n');
    expect(await pollUntil(() => out.includes('after-follow-2'), 20_000)).toBe(true);
    child.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(0);
    expect(out).toBe('before-follow\nafter-follow-1\nafter-follow-2\n');
  });

  it('addresses files only by the listing: a path is not found', async () => {
    const cluster = newCluster();
    const head = await cluster.startHead({ numCpus: 1 });
    for (const name of ['../../state/token', '/etc/passwd', '..']) {
      const r = await cluster.rayts(['logs', name, `--temp-dir=${head.tempDir}`]);
      expect(r.code, name).toBe(1);
      expect(r.stdout).toContain('(no log files match)');
    }
  });
});
