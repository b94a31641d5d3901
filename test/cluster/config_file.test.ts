/** `rayts start --config FILE` and its precedence: flags > RAYTS_* environment > --config file > defaults. */
import { describe, expect, it } from 'vitest';
import { writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { useCluster } from '../helpers/cluster.js';

const newCluster = useCluster();

describe('rayts start --config', () => {
  it('fills flags and tunables the command line and environment leave open', async () => {
    const cluster = newCluster();
    const file = join(cluster.root, 'config.yaml');
    writeFileSync(file, 'start:\n  num-cpus: 3\n  resources: {"slot": 2}\nenv:\n  RAYTS_PRESTART_WORKERS: 2\n  RAYTS_REPORT_RESOURCES_PERIOD_MS: 700\n');
    // The flag beats the file (--num-cpus), the environment beats the file (RAYTS_PRESTART_WORKERS=1 from the harness).
    const head = await cluster.startHead({ args: [`--config=${file}`, '--num-cpus=4'] });
    const status = await cluster.statusJson(head.tempDir);
    expect(status.usage.CPU.total).toBe(4);
    expect(status.usage.slot.total).toBe(2);
    expect(readdirSync(join(head.sessionDir, 'pids', 'workers'))).toHaveLength(1);
  });

  it('refuses unknown keys and bad YAML with a clear message', async () => {
    const cluster = newCluster();
    const file = join(cluster.root, 'bad.yaml');
    for (const [text, needle] of [
      ['start:\n  bogus: 1\n', "unknown start option 'bogus'"],
      ['env:\n  RAYTS_NOPE: 1\n', 'unknown variable RAYTS_NOPE'],
      ['start: [1, 2\n', 'cannot read the config file'],
      ['other: {}\n', "unknown section 'other'"],
    ] as const) {
      writeFileSync(file, text);
      const r = await cluster.rayts(['start', '--head', '--port=0', '--dashboard-port=0', '--node-ip-address=127.0.0.1', `--temp-dir=${cluster.tempDir('h')}`, `--config=${file}`]);
      expect(r.code, text).toBe(2);
      expect(r.stderr).toContain(needle);
    }
    expect(cluster.processes()).toEqual([]);
  });
});
