import { describe, expect, it } from 'vitest';
import { ClusterUnreachableError, ExitCode, UsageError, type HostCluster } from '@rayts/common';
import { localCluster } from './discovery.js';

/** A node of this host (a session whose directory does not exist), of this user unless `user` is given. */
const session = (address: string, tempDir: string, kind: 'head' | 'worker' = 'head', user = 'me'): HostCluster => ({
  address, kind, sessionDir: `/nonexistent${tempDir}/session`, tokenFile: `/nonexistent${tempDir}/session/token`,
  owner: { user, uid: user === 'me' ? 1000 : 2000, group: user, gid: 1000 }, foreign: user !== 'me',
  session: { sessionName: 's', sessionDir: `/nonexistent${tempDir}/session`, tempDir, kind, nodeIp: '127.0.0.1', gcsAddress: address, createdAtMs: 0 },
});

describe('localCluster (what auto and no address mean)', () => {
  it('is the one cluster of this host, even with several of its nodes here', () => {
    const head = session('127.0.0.1:6379', '/tmp/a');
    const worker = session('127.0.0.1:6379', '/tmp/b', 'worker');
    expect(localCluster([worker, head], undefined)).toEqual({ address: '127.0.0.1:6379', cluster: head });
  });

  it('none: exit 3, saying what auto means when it was asked for', () => {
    const err = (() => { try { localCluster([], '/tmp/x', '--address=auto'); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(ClusterUnreachableError);
    expect((err as ClusterUnreachableError).exitCode).toBe(ExitCode.clusterUnreachable);
    expect((err as Error).message).toBe('no rayts cluster is running on this host under /tmp/x (--address=auto means the cluster this host runs)');
  });

  it('several: exit 2 naming every address, its owner and its temp dir', () => {
    const err = (() => { try { localCluster([session('127.0.0.1:1', '/tmp/a'), session('127.0.0.2:2', '/tmp/b', 'head', 'rayts')], undefined, 'RAYTS_ADDRESS=auto'); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(ExitCode.usage);
    expect((err as Error).message).toContain('127.0.0.1:1  (user me, temp dir /tmp/a)');
    expect((err as Error).message).toContain('127.0.0.2:2  (user rayts, temp dir /tmp/b)');
    expect((err as UsageError).hint).toContain('--address');
  });
});
