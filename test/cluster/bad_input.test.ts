/**
 * Bad input to `rayts start` and the daemons: a taken port, invalid flags (--resources and others)
 * and garbage on the wire each get a clear answer and crash nothing.
 */
import { describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { alive, readJsonFile, useCluster } from '../helpers/cluster.js';
import type { RayletReady } from '@rayts/common';

const newCluster = useCluster();

function sendGarbage(address: string, payloads: Buffer[]): Promise<void> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((resolve) => {
    const socket = connect({ host, port }, () => {
      for (const p of payloads) socket.write(p);
      socket.end();
    });
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
    // A server may keep a half-closed connection open waiting for more; we only need it not to crash.
    socket.setTimeout(2000, () => socket.destroy());
    socket.resume();
  });
}

describe('bad input', () => {
  it('a second head on a taken port exits non-zero naming the port', async () => {
    const cluster = newCluster();
    const head = await cluster.startHead({ numCpus: 1 });
    const port = head.gcsAddress.split(':')[1]!;
    const second = await cluster.rayts(['start', '--head', `--port=${port}`, '--dashboard-port=0', '--node-ip-address=127.0.0.1', `--temp-dir=${cluster.tempDir('second')}`]);
    expect(second.code).not.toBe(0);
    expect(second.stderr).toContain(`port ${port}`);
    expect(second.stderr).toContain('already in use');
    expect(existsSync(join(cluster.tempDir('second'), 'session_latest'))).toBe(false);
    expect(alive(head.headPid!)).toBe(true);

    // A joining node whose metrics port is taken is refused before its raylet starts.
    const taken = readJsonFile<RayletReady>(join(head.sessionDir, 'raylet.json')).metricsExportPort;
    const join2 = await cluster.rayts(['start', `--address=${head.gcsAddress}`, `--token-file=${join(head.tempDir, 'state', 'token')}`,
      '--node-ip-address=127.0.0.1', `--temp-dir=${cluster.tempDir('w2')}`, `--metrics-export-port=${taken}`]);
    expect(join2.code).not.toBe(0);
    expect(join2.stderr).toContain(`port ${taken} on 127.0.0.1 is already in use, so the raylet cannot serve metrics there`);
    expect(join2.stderr).toContain('--metrics-export-port');
    expect(existsSync(join(cluster.tempDir('w2'), 'session_latest'))).toBe(false);
  });

  it('refuses invalid --resources with an example of valid JSON, before starting anything', async () => {
    const cluster = newCluster();
    const bad = await cluster.rayts(['start', '--head', '--port=0', '--dashboard-port=0', '--node-ip-address=127.0.0.1', `--temp-dir=${cluster.tempDir('h')}`, '--resources={bad']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--resources is not valid JSON');
    expect(bad.stderr).toContain(`--resources='{"ssd": 1`);
    expect(cluster.processes()).toEqual([]);
    expect(existsSync(cluster.tempDir('h'))).toBe(false);

    for (const [args, needle] of [
      [['--resources=[1,2]'], 'must be a JSON object'],
      [['--resources={"CPU":4}'], '--num-cpus'],
      [['--num-cpus=-1'], '--num-cpus must be a whole number'],
      [['--labels=novalue'], 'KEY=VALUE'],
      [['--object-store-memory=lots'], '--object-store-memory must be a size'],
      [['--port=99999'], 'between 0 and 65535'],
      [['--metrics-export-port=70000'], '--metrics-export-port must be a port number'],
      [['--metrics-auth=maybe'], "--metrics-auth must be true or false, got 'maybe'"],
    ] as const) {
      const r = await cluster.rayts(['start', '--head', '--dashboard-port=0', '--node-ip-address=127.0.0.1', `--temp-dir=${cluster.tempDir('h')}`, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(needle);
    }
    const neither = await cluster.rayts(['start']);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain('--head');
    const badAddress = await cluster.rayts(['start', '--address=nonsense']);
    expect(badAddress.code).toBe(2);
    expect(badAddress.stderr).toContain('HOST:PORT');
    const unknown = await cluster.rayts(['start', '--head', '--frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown option '--frobnicate'");
  });

  it('random bytes sent to the GCS port, a raylet port and its metrics port crash nothing', async () => {
    const cluster = newCluster();
    const head = await cluster.startHead({ numCpus: 1 });
    const raylet = readJsonFile<RayletReady>(join(head.sessionDir, 'raylet.json'));
    const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
    for (const address of [head.gcsAddress, raylet.address, `127.0.0.1:${raylet.metricsExportPort}`]) {
      for (let i = 0; i < 20; i++) {
        const payloads = i % 2 === 0 ? [randomBytes(1 + (i * 997) % 65536)] : [preface, randomBytes(4096)];
        await sendGarbage(address, payloads);
      }
      await sendGarbage(address, [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')]);
    }
    expect(alive(head.headPid!)).toBe(true);
    expect(alive(head.rayletPid)).toBe(true);
    const status = await cluster.statusJson(head.tempDir);
    expect(status.nodes.active).toHaveLength(1);
    const logs = await cluster.rayts(['logs', `--temp-dir=${head.tempDir}`]);
    expect(logs.code).toBe(0);
    expect((await fetch(`http://127.0.0.1:${raylet.metricsExportPort}/metrics`)).status).toBe(401);
  });
});
