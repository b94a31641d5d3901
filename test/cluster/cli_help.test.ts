/**
 * CLI polish: the hidden --no-color works (even with FORCE_COLOR),
 * and help texts list each option's choices and environment variable.
 */
import { describe, expect, it } from 'vitest';
import { useCluster } from '../helpers/cluster.js';

const newCluster = useCluster();
const ESC = '\x1b[';

describe('rayts CLI help and colour', () => {
  it('--no-color turns colour off where FORCE_COLOR would turn it on', async () => {
    const cluster = newCluster({ FORCE_COLOR: '1' });
    const tempDir = cluster.tempDir('head');
    const start = await cluster.rayts(['start', '--head', '--port=0', '--dashboard-port=0', '--node-ip-address=127.0.0.1', `--temp-dir=${tempDir}`,
      '--num-cpus=1', '--object-store-memory=100MiB'], { NO_COLOR: undefined });
    expect(start.code, start.stderr).toBe(0);
    expect(start.stdout).toContain(ESC); // the control: FORCE_COLOR colours it
    const stop = await cluster.rayts(['stop', '--no-color', `--temp-dir=${tempDir}`], { NO_COLOR: undefined });
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout).toContain('Stopped all');
    expect(stop.stdout).not.toContain(ESC);
  });

  it('help lists choices and environment variables; --no-color stays hidden', async () => {
    const cluster = newCluster();
    const help = async (...args: string[]) => {
      const r = await cluster.rayts([...args, '--help']);
      expect(r.code).toBe(0);
      return r.stdout.replace(/\s+/g, ' ');
    };
    const status = await help('status');
    expect(status).toContain('(env: RAYTS_ADDRESS)');
    expect(status).toContain('auto: the cluster this host runs');
    expect(status).toContain('(env: RAYTS_TOKEN, RAYTS_TOKEN_FILE)');
    expect(await help('memory')).toContain('(choices: "node", "stack-trace", default: "node")');
    expect(await help('list')).toContain('(choices: "default", "json", "yaml", "table", default: "default")');
    expect(await help('list')).toContain('(env: RAYTS_API_SERVER_ADDRESS, RAYTS_ADDRESS)');
    const start = await help('start');
    expect(start).toContain('(env: RAYTS_LOG_TO_STDERR=1)');
    expect(start).toContain('(env: RAYTS_TLS_CERT)');
    expect(start).toContain('(default true; choices: true, false)');
    expect(await help('stop')).toContain('(env: RAYTS_STOP_GRACE_PERIOD_S)');
    expect(await help()).not.toContain('--no-color');
    const bad = await cluster.rayts(['memory', '--group-by', 'colour']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Allowed choices are node, stack-trace.');
  });
});
