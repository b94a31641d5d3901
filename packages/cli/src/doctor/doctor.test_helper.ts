/** Fake doctor facts for the unit tests: a healthy two-node cluster seen from its head's host. */
import { TUNABLES } from '@rayts/common';
import type { DoctorFacts, LocalNodeFact } from './types.js';

const GiB = 2 ** 30;

export function localNode(overrides: Partial<LocalNodeFact> = {}): LocalNodeFact {
  return {
    kind: 'head', nodeIp: '10.0.0.1', sessionDir: '/tmp/rayts/session_x', objectStoreBytes: 2 * GiB, shmDir: '/dev/shm',
    shm: { totalBytes: 8 * GiB, freeBytes: 6 * GiB }, arenaDir: '/dev/shm', spillDir: '/tmp/rayts/session_x/spill',
    spill: { totalBytes: 100 * GiB, freeBytes: 50 * GiB }, token: { path: '/tmp/rayts/session_x/token', mode: 0o600, uid: 1000, expectedUid: 1000 },
    openFiles: { soft: 65536, hard: 65536 },
    ...overrides,
  };
}

export function healthyFacts(overrides: Partial<DoctorFacts> = {}): DoctorFacts {
  const thresholds = Object.fromEntries(Object.entries(TUNABLES).map(([k, v]) => [k, v.default])) as unknown as DoctorFacts['thresholds'];
  return {
    headAddress: '10.0.0.1:6379', localVersion: '0.1.0', localNodeVersion: '20.11.0',
    nodes: [
      { nodeId: 'a', nodeIp: '10.0.0.1', rayletPort: 40001, isHead: true, version: '0.1.0', nodeVersion: '20.11.0', lastSeenAgoMs: 200 },
      { nodeId: 'b', nodeIp: '10.0.0.2', rayletPort: 40002, isHead: false, version: '0.1.0', nodeVersion: '20.11.0', lastSeenAgoMs: 700 },
    ],
    clock: { sentMs: 1_000_000, receivedMs: 1_000_010, headNowMs: 1_000_005 },
    probes: [
      { role: 'head', host: '10.0.0.1', port: 6379, open: true },
      { role: 'raylet', host: '10.0.0.1', port: 40001, open: true },
      { role: 'raylet', host: '10.0.0.2', port: 40002, open: true },
    ],
    localNodes: [localNode()],
    memInfo: { memTotalBytes: 32 * GiB, hugePagesTotal: 0, hugePageSizeBytes: 2 * 2 ** 20 },
    openFiles: { soft: 65536, hard: 65536 },
    systemd: { running: false, units: [] },
    thresholds,
    ...overrides,
  };
}
