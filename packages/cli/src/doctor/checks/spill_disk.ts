/** Free disk under each local node's spill dir: objects spill there when the store fills. */
import { formatBytes } from '@rayts/common';
import { nodeScope, type Check, type Finding } from '../types.js';

export const spillDiskCheck: Check = {
  name: 'spill disk',
  run({ localNodes, thresholds }): Finding[] {
    return localNodes.map((n) => {
      const base = { check: 'spill disk', scope: nodeScope(n) };
      const fix = `free disk space under ${n.spillDir}, or start the node with --object-spilling-directory on a bigger disk`;
      if (!n.spill) return { ...base, status: 'warn', finding: `cannot measure the disk of ${n.spillDir}`, fix: `check that ${n.spillDir} is on a mounted, readable filesystem` };
      const text = `${formatBytes(n.spill.freeBytes)} free under ${n.spillDir}`;
      if (n.spill.freeBytes < thresholds.doctorMinSpillFreeBytes) return { ...base, status: 'fail', finding: `${text} (less than ${formatBytes(thresholds.doctorMinSpillFreeBytes)})`, fix };
      if (n.objectStoreBytes !== undefined && n.spill.freeBytes < n.objectStoreBytes) {
        return { ...base, status: 'warn', finding: `${text}, less than the ${formatBytes(n.objectStoreBytes)} object store`, fix };
      }
      return { ...base, status: 'ok', finding: text, fix: '' };
    });
  },
};
