/**
 * The nodes of clusters running on this host, as every user sees them: this user's live sessions
 * and the trusted, live entries of the host's record of clusters (any user's).
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ClusterRecords, currentOwner, defaultClustersDir, groupName, userName, type Owner } from './cluster_record.js';
import type { Config } from './config.js';
import { AuthenticationError } from './errors.js';
import { liveSessions, readSessionInfo, sessionGcsAddress, SessionPaths, type NodeKind, type SessionInfo } from './session.js';

/**
 * A node of some cluster running on this host: one of this user's live sessions, or an entry of the
 * host's record of clusters (any user's, trusted and alive; see ClusterRecords).
 */
export interface HostCluster {
  address: string;
  kind: NodeKind;
  sessionDir: string;
  tokenFile: string;
  owner: Owner;
  /** Another user's (not this process's uid). */
  foreign: boolean;
  /** Its session file when this user can read it. */
  session?: SessionInfo;
}

/** Who owns a session dir (undefined when it cannot be read). */
function ownerOf(sessionDir: string): Owner | undefined {
  try {
    const st = statSync(sessionDir);
    return { user: userName(st.uid), uid: st.uid, group: groupName(st.gid), gid: st.gid };
  } catch {
    return undefined;
  }
}

export function underDir(path: string, dir: string): boolean {
  const root = resolve(dir);
  return resolve(path).startsWith(root.endsWith('/') ? root : `${root}/`);
}

/** Every live node of a cluster on this host: this user's sessions, then the host's record (of --temp-dir only, if given). */
export function hostClusters(config: Pick<Config, 'registryDir' | 'tmpDir' | 'clustersDir'>, tempDir?: string): HostCluster[] {
  const me = currentOwner();
  // A shared temp dir (root sees into everyone's) may hold other users' sessions: the session dir's owner says whose.
  const own: HostCluster[] = liveSessions(config, tempDir).map((s) => {
    const owner = ownerOf(s.sessionDir) ?? me;
    return {
      address: sessionGcsAddress(s), kind: s.kind, sessionDir: resolve(s.sessionDir), tokenFile: new SessionPaths(s.sessionDir).token,
      owner, foreign: owner.uid !== me.uid, session: s,
    };
  });
  const seen = new Set(own.map((c) => c.sessionDir));
  const recorded = new ClusterRecords(defaultClustersDir(config.clustersDir)).list()
    .filter((r) => !seen.has(resolve(r.sessionDir)) && (!tempDir || underDir(r.sessionDir, tempDir)))
    .map((r): HostCluster => ({
      address: r.address, kind: r.kind, sessionDir: resolve(r.sessionDir), tokenFile: r.tokenFile,
      owner: { user: r.ownerUser, uid: r.ownerUid, group: r.ownerGroup, gid: r.ownerGid }, foreign: r.ownerUid !== me.uid,
      session: readSessionInfo(r.sessionDir),
    }));
  return [...own, ...recorded];
}

/** Why there is no token for another user's cluster, and what to do. */
export function foreignTokenError(ownerUser: string, tokenFile: string, address: string): AuthenticationError {
  return new AuthenticationError(
    `a rayts cluster of user ${ownerUser} runs at ${address}; its token is in ${tokenFile} (mode 0600, readable by ${ownerUser} and root)`,
    'pass --token-file FILE or set RAYTS_TOKEN (the owner prints it with `rayts get-auth-token`)');
}


/** The token of a node of this host, if this user can read it. */
export function readNodeToken(cluster: Pick<HostCluster, 'tokenFile'> | undefined): string | undefined {
  if (!cluster) return undefined;
  try {
    return readFileSync(cluster.tokenFile, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The temp dir a node's session lives in. */
export function tempDirOf(cluster: HostCluster): string {
  return cluster.session?.tempDir ?? dirname(cluster.sessionDir);
}
