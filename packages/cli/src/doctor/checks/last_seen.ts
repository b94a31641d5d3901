/** How long ago the head last heard from each alive node (a resource report or a health check). */
import { formatDuration } from '@rayts/common';
import { nodeScope, type Check, type Finding } from '../types.js';

export const lastSeenCheck: Check = {
  name: 'last report',
  run({ nodes, thresholds: t }): Finding[] {
    const warnMs = Math.max(t.reportResourcesPeriodMs, t.healthCheckPeriodMs) * 3;
    const failMs = t.healthCheckPeriodMs * t.healthCheckFailureThreshold;
    return nodes.map((n) => {
      const status = n.lastSeenAgoMs > failMs ? 'fail' : n.lastSeenAgoMs > warnMs ? 'warn' : 'ok';
      return { check: 'last report', scope: nodeScope(n), status, finding: `the head heard from it ${formatDuration(n.lastSeenAgoMs)} ago`,
        fix: status === 'ok' ? '' : `the head cannot reach the raylet at ${n.nodeIp}:${n.rayletPort} or it is overloaded: check the firewall and \`rayts logs raylet\` on that node` };
    });
  },
};
