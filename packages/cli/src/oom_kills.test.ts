/** The memory monitors' kills in `rayts status`: found among task attempts, shown under Recent failures. */
import { describe, expect, it } from 'vitest';
import type { ClusterStatus__Output, TaskAttemptInfoMsgOutput } from '@rayts/common';
import { memoryOfMessage, oomKillsOf } from './oom_kills.js';
import { buildStatusView, renderStatus, statusJson } from './status_format.js';

const MESSAGE = 'task grow (task ID: t1) was killed because the node ran low on memory. Memory on the node (IP: 127.0.0.1, ID: nnn) '
  + 'where the worker (pid=4242, ID: w1, memory used=1.20GiB) was running was 22.90GiB / 23.50GiB (0.974, read from /proc/meminfo), '
  + 'which exceeds the memory usage threshold of 0.95. rayts killed …';

function attempt(taskId: string, attemptNumber: number, errorType: string, endTimeMs: number): TaskAttemptInfoMsgOutput {
  return {
    taskId, attemptNumber, name: 'grow', funcOrClassName: 'grow', type: 'NORMAL_TASK', state: errorType ? 'FAILED' : 'FINISHED', jobId: 'j', actorId: '',
    parentTaskId: '', nodeId: 'n'.repeat(56), workerId: 'w1', workerPid: 4242, errorType, errorMessage: errorType === 'OUT_OF_MEMORY' ? MESSAGE : 'x',
    requiredResources: {}, placementGroupId: '', stateTransitions: [], creationTimeMs: '0', startTimeMs: '0', endTimeMs: String(endTimeMs), log: null,
  } as unknown as TaskAttemptInfoMsgOutput;
}

describe('OOM kills in rayts status', () => {
  it('reads the memory and threshold from the error message', () => {
    expect(memoryOfMessage(MESSAGE)).toEqual({ memory: '22.90GiB / 23.50GiB', threshold: '0.95' });
    expect(memoryOfMessage('other')).toEqual({ memory: '', threshold: '' });
  });

  it('keeps the newest OUT_OF_MEMORY attempts, at most `max`', () => {
    const rows = oomKillsOf([attempt('t1', 0, 'OUT_OF_MEMORY', 1000), attempt('t2', 0, 'WORKER_DIED', 5000), attempt('t1', 1, 'OUT_OF_MEMORY', 3000),
      attempt('t1', 2, '', 4000), attempt('t3', 0, 'OUT_OF_MEMORY', 2000)], 2);
    expect(rows.map((r) => [r.taskId, r.attempt])).toEqual([['t1', 1], ['t3', 0]]);
    expect(rows[0]).toMatchObject({ nodeId: 'n'.repeat(56), taskName: 'grow', workerPid: 4242, memory: '22.90GiB / 23.50GiB', threshold: '0.95', timeMs: 3000 });
  });

  it('shows them under Recent failures, in text and JSON', () => {
    const node = {
      nodeId: 'n'.repeat(56), nodeIp: '127.0.0.9', rayletPort: 1, hostname: 'h', isHead: true, state: 'NODE_ALIVE', resourcesTotal: {}, resourcesAvailable: {},
      labels: {}, startTimeMs: 0, deathTimeMs: 0, deathCause: 'NODE_DEATH_CAUSE_UNSPECIFIED', deathReason: '', rayletPid: 1, sessionName: 's', version: 'v', lastSeenAgoMs: 0,
    };
    const status = { cluster: null, nodes: [node], pendingDemands: [], nowMs: 0 } as unknown as ClusterStatus__Output;
    const kills = oomKillsOf([attempt('t1', 0, 'OUT_OF_MEMORY', Date.UTC(2026, 0, 1, 12, 0, 1))], 10);
    const text = renderStatus(buildStatusView(status, new Date(), kills), false);
    expect(text).toMatch(new RegExp(`Recent failures:\\n node_${'n'.repeat(56)}: OutOfMemory \\(ip: 127\\.0\\.0\\.9\\) at \\d\\d:\\d\\d:\\d\\d: worker pid 4242 running task grow \\(task t1, attempt 0\\) killed by the memory monitor at 22\\.90GiB / 23\\.50GiB used \\(threshold 0\\.95\\)\\n`));
    expect(text).not.toContain('(no failures)');
    expect(renderStatus(buildStatusView(status), false)).toContain('Recent failures:\n (no failures)\n');
    expect((statusJson(buildStatusView(status, new Date(), kills)) as { recentOomKills: unknown[] }).recentOomKills).toHaveLength(1);
  });
});
