/** What `rayts doctor` gathers (plain data, so each check is a pure function) and what a check reports. */
import type { Config } from '@rayts/common';

export const CHECK_STATUSES = ['ok', 'warn', 'fail', 'skip'] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

/** One line of the report: where it applies (cluster, this host, a node), the finding and the fix. */
export interface Finding {
  check: string;
  scope: string;
  status: CheckStatus;
  finding: string;
  /** Empty when nothing is to be done. */
  fix: string;
}

export interface NodeFact {
  nodeId: string;
  nodeIp: string;
  rayletPort: number;
  isHead: boolean;
  version: string;
  /** Empty when the raylet is older than the field. */
  nodeVersion: string;
  lastSeenAgoMs: number;
}

/** This host's clock around one call to the head, and the head's clock in its answer. */
export interface ClockFact {
  sentMs: number;
  receivedMs: number;
  headNowMs: number;
}

export interface PortProbe {
  /** 'head' (the GCS port) or 'raylet'. */
  role: 'head' | 'raylet';
  host: string;
  port: number;
  open: boolean;
  /** Why the connect failed (ECONNREFUSED, a timeout, …). */
  error?: string;
}

export interface SpaceFact {
  totalBytes: number;
  freeBytes: number;
}

export interface FileFact {
  path: string;
  mode: number;
  uid: number;
  /** The uid that should own it: the owner of the session dir (the user running the daemons). */
  expectedUid: number;
}

/** A node of the cluster whose session lives on this host. */
export interface LocalNodeFact {
  kind: 'head' | 'worker';
  nodeIp: string;
  sessionDir: string;
  objectStoreBytes?: number;
  shmDir: string;
  /** statfs of shmDir; undefined when it does not exist. */
  shm?: SpaceFact;
  /** Where the store's file actually is (another dir after a fallback). */
  arenaDir?: string;
  spillDir: string;
  spill?: SpaceFact;
  token?: FileFact;
  /** The running raylet's open-files limit (its workers inherit it); undefined when unreadable. */
  openFiles?: OpenFilesLimit;
}

export interface MemInfo {
  memTotalBytes: number;
  hugePagesTotal: number;
  hugePageSizeBytes: number;
}

export interface OpenFilesLimit {
  /** Infinity for "unlimited". */
  soft: number;
  hard: number;
}

export interface SystemdUnitFact {
  name: string;
  path: string;
  /** `systemctl is-active` output; undefined when systemd does not run. */
  activeState?: string;
}

export interface SystemdFact {
  running: boolean;
  units: SystemdUnitFact[];
}

export type DoctorThresholds = Pick<Config,
  'doctorClockSkewWarnMs' | 'doctorClockSkewFailMs' | 'doctorMinOpenFiles' | 'doctorMinSpillFreeBytes'
  | 'healthCheckPeriodMs' | 'healthCheckTimeoutMs' | 'healthCheckFailureThreshold' | 'reportResourcesPeriodMs'>;

export interface DoctorFacts {
  headAddress: string;
  /** The versions of this CLI. */
  localVersion: string;
  localNodeVersion: string;
  /** Alive nodes. */
  nodes: NodeFact[];
  clock: ClockFact;
  probes: PortProbe[];
  localNodes: LocalNodeFact[];
  memInfo?: MemInfo;
  /** This process's limit (what daemons started from this shell would get). */
  openFiles?: OpenFilesLimit;
  systemd: SystemdFact;
  thresholds: DoctorThresholds;
}

export interface Check {
  name: string;
  run(facts: DoctorFacts): Finding[];
}

export function nodeScope(n: { nodeIp: string; isHead?: boolean; kind?: string }): string {
  return `node ${n.nodeIp}${n.isHead || n.kind === 'head' ? ' (head)' : ''}`;
}
