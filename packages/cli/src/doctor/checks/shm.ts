/** The shared-memory dir (/dev/shm) of each local node is big enough for its object store, and the store is in it. */
import { formatBytes } from '@rayts/common';
import { nodeScope, type Check, type Finding, type LocalNodeFact } from '../types.js';

function judge(n: LocalNodeFact): Finding {
  const base = { check: 'shared memory', scope: nodeScope(n) };
  const grow = (size: number) => `make ${n.shmDir} bigger (mount -o remount,size=${Math.ceil((size * 1.1) / 2 ** 20)}m ${n.shmDir}; in Docker --shm-size) or start the node with a smaller --object-store-memory`;
  if (!n.shm) return { ...base, status: 'fail', finding: `${n.shmDir} does not exist`, fix: `mount a tmpfs at ${n.shmDir} (or set RAYTS_OBJECT_STORE_SHM_DIR to one)` };
  if (n.objectStoreBytes === undefined) return { ...base, status: 'skip', finding: 'the raylet did not record its object store size (older raylet)', fix: '' };
  const sizes = `${n.shmDir} holds ${formatBytes(n.shm.totalBytes)}, the object store is ${formatBytes(n.objectStoreBytes)}`;
  if (n.arenaDir !== undefined && n.arenaDir !== n.shmDir) {
    return { ...base, status: 'fail', finding: `the object store fell back to ${n.arenaDir} (disk, slower): ${sizes}`, fix: grow(n.objectStoreBytes) };
  }
  if (n.objectStoreBytes > n.shm.totalBytes) return { ...base, status: 'fail', finding: `too small: ${sizes}`, fix: grow(n.objectStoreBytes) };
  return { ...base, status: 'ok', finding: sizes, fix: '' };
}

export const shmCheck: Check = {
  name: 'shared memory',
  run({ localNodes }): Finding[] {
    if (localNodes.length === 0) return [{ check: 'shared memory', scope: 'this host', status: 'skip', finding: 'no node of this cluster runs on this host', fix: '' }];
    return localNodes.map(judge);
  },
};
