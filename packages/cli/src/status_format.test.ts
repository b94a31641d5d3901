import { describe, expect, it } from 'vitest';
import type { ClusterStatus__Output, NodeInfo__Output } from '@rayts/common';
import { buildStatusView, renderStatus, statusJson, usageRows } from './status_format.js';

const PG = 'ab'.repeat(18);

function node(total: Record<string, number>, available: Record<string, number>): NodeInfo__Output {
  return {
    nodeId: 'n'.repeat(56), nodeIp: '127.0.0.1', rayletPort: 1, hostname: 'h', isHead: true, state: 'NODE_ALIVE',
    resourcesTotal: total, resourcesAvailable: available, labels: {}, startTimeMs: 0, deathTimeMs: 0, deathCause: 'NODE_DEATH_CAUSE_UNSPECIFIED',
    deathReason: '', rayletPid: 1, sessionName: 's', version: 'v', lastSeenAgoMs: 0,
  };
}

describe('status with placement groups', () => {
  it('folds reservations into the CPU line as Ray does and hides group resources', () => {
    // 8 CPUs; a group reserves 4 (two bundles), its tasks use 2; another task uses 1 outside it.
    const total = {
      CPU: 8, [`CPU_group_${PG}`]: 4, [`CPU_group_0_${PG}`]: 2, [`CPU_group_1_${PG}`]: 2,
      [`bundle_group_${PG}`]: 2000, [`bundle_group_0_${PG}`]: 1000, [`bundle_group_1_${PG}`]: 1000,
    };
    const available = {
      CPU: 3, [`CPU_group_${PG}`]: 2, [`CPU_group_0_${PG}`]: 0, [`CPU_group_1_${PG}`]: 2,
      [`bundle_group_${PG}`]: 1999.998, [`bundle_group_0_${PG}`]: 999.998, [`bundle_group_1_${PG}`]: 1000,
    };
    const rows = usageRows(total, available);
    expect(rows).toEqual([{ name: 'CPU', total: 8, used: 3, placementGroups: { used: 2, reserved: 4 } }]);
    const status: ClusterStatus__Output = { cluster: null, nodes: [node(total, available)], pendingDemands: [], nowMs: 0 };
    const text = renderStatus(buildStatusView(status), false);
    expect(text).toContain(' 3.0/8.0 CPU (2.0 used of 4.0 reserved in placement groups)\n');
    expect(text).not.toContain('_group_');
    expect((statusJson(buildStatusView(status)) as { usage: unknown }).usage).toEqual({ CPU: { used: 3, total: 8, placementGroups: { used: 2, reserved: 4 } } });
  });

  it('prints pending placement groups in Ray\'s shape', () => {
    const status: ClusterStatus__Output = {
      cluster: null, nodes: [], nowMs: 0, pendingDemands: [
        { shape: {}, count: 1, kind: 'placement_group', strategy: 'STRICT_SPREAD', infeasible: false, bundles: [{ shape: { CPU: 1 }, count: 4 }] },
        { shape: {}, count: 2, kind: 'placement_group', strategy: 'PACK', infeasible: true, bundles: [{ shape: { CPU: 1, tpu: 1 }, count: 1 }, { shape: { CPU: 2 }, count: 2 }] },
      ],
    };
    const text = renderStatus(buildStatusView(status), false);
    expect(text).toContain(" {'CPU': 1.0} * 4 (STRICT_SPREAD): 1+ pending placement groups\n");
    expect(text).toContain(" {'CPU': 1.0, 'tpu': 1.0} * 1, {'CPU': 2.0} * 2 (PACK): 2+ pending placement groups (infeasible: no node has these resources)\n");
  });
});
