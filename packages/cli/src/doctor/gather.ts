/**
 * Gathers the facts the checks judge: the cluster through the head (one GetClusterStatus: nodes,
 * versions, last reports, the head's clock), TCP probes of the head's and every alive raylet's port
 * from this host, and this host's own state (the sessions of this cluster here, /proc, statfs, systemd).
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import {
  RAYTS_VERSION, SessionPaths, liveSessions, parseAddress, readJson, sessionGcsAddress,
  type ClusterStatus__Output, type Config, type RayletReady, type SessionInfo,
} from '@rayts/common';
import { sameAddress } from '../discovery.js';
import { fileFact, readMemInfo, readOpenFilesLimit, readSystemd, spaceOf } from './host_facts.js';
import { probePort } from './probe.js';
import type { ClockFact, DoctorFacts, LocalNodeFact, NodeFact } from './types.js';

/** The one head call doctor needs (GcsClient satisfies it). */
export interface ClusterStatusSource {
  getClusterStatus(): Promise<ClusterStatus__Output>;
}

export interface GatherOptions {
  headAddress: string;
  tempDir?: string;
}

export async function gatherFacts(head: ClusterStatusSource, options: GatherOptions, config: Config): Promise<DoctorFacts> {
  const sentMs = Date.now();
  const status = await head.getClusterStatus();
  const clock: ClockFact = { sentMs, receivedMs: Date.now(), headNowMs: Number(status.nowMs) };
  const nodes: NodeFact[] = status.nodes.filter((n) => n.state === 'NODE_ALIVE').map((n) => ({
    nodeId: n.nodeId, nodeIp: n.nodeIp, rayletPort: n.rayletPort, isHead: n.isHead, version: n.version,
    nodeVersion: n.nodeVersion, lastSeenAgoMs: Number(n.lastSeenAgoMs),
  }));
  const { host, port } = parseAddress(options.headAddress);
  const probes = await Promise.all([
    probePort('head', host, port, config.doctorProbeTimeoutMs),
    ...nodes.map((n) => probePort('raylet', n.nodeIp, n.rayletPort, config.doctorProbeTimeoutMs)),
  ]);
  const sessions = liveSessions(config, options.tempDir).filter((s) => sameAddress(sessionGcsAddress(s), options.headAddress));
  return {
    headAddress: options.headAddress, localVersion: RAYTS_VERSION, localNodeVersion: process.versions.node,
    nodes, clock, probes, localNodes: sessions.map((s) => localNode(s, config)),
    memInfo: readMemInfo(), openFiles: readOpenFilesLimit(), systemd: readSystemd(), thresholds: config,
  };
}

function localNode(session: SessionInfo, config: Config): LocalNodeFact {
  const paths = new SessionPaths(session.sessionDir);
  const raylet = readJson<RayletReady>(paths.rayletReady);
  const shmDir = raylet?.shmDir ?? config.objectStoreShmDir;
  const spillDir = raylet?.spillDir ?? paths.spill;
  let ownerUid = process.getuid?.() ?? 0;
  try {
    ownerUid = statSync(session.sessionDir).uid;
  } catch {
    // The session dir vanished between the listing and now: judge against this user.
  }
  return {
    kind: session.kind, nodeIp: session.nodeIp, sessionDir: session.sessionDir,
    objectStoreBytes: raylet?.objectStoreBytes, shmDir, shm: spaceOf(shmDir), arenaDir: raylet?.arenaDir,
    spillDir, spill: spaceOf(existingAncestor(spillDir)), token: fileFact(paths.token, ownerUid),
    openFiles: raylet ? readOpenFilesLimit(raylet.pid) : undefined,
  };
}

/** The spill dir is created on the first spill: measure the filesystem it will be on. */
function existingAncestor(dir: string): string {
  let d = dir;
  for (;;) {
    try {
      statSync(d);
      return d;
    } catch {
      const parent = join(d, '..');
      if (parent === d) return d;
      d = parent;
    }
  }
}
