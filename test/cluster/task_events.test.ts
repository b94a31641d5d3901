/**
 * Task events on a real cluster: a driver runs normal tasks (one throws), a task whose first attempt
 * kills its worker and is retried, a task that submits a nested one, a task that runs on another
 * node, and an actor with calls (one throws). The test then asks the head for the job's attempts over gRPC (TaskEventService, with the
 * cluster token) and checks what the head stored against what the tasks themselves reported: states
 * and their order, attempts, error types, node, worker and pid, parent tasks, and the byte range of
 * each task's output in its worker's log file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AuthenticationError, InvalidRequestError, TaskEventClient, encodeTaskEvents, pollUntil, readTokenFile, taskAttemptFromInfo, type RayletReady, type TaskAttempt,
} from '@rayts/common';
import { readJsonFile, useCluster } from '../helpers/cluster.js';
import { makeUserProject, resultOf, runDriver } from '../helpers/driver.js';

const newCluster = useCluster();

interface Where { taskId: string; workerId: string; nodeId: string; pid: number }
/** What tasks/task_events.mjs reports. */
interface Ran {
  jobId: string;
  driver: Where;
  squares: (Where & { value: number })[];
  boomError: string;
  retried: Where;
  nested: { taskId: string; innerTaskId: string };
  remote: Where;
  calls: (Where & { n: number; actorId: string })[];
  callError: string;
}

/** A report about the attempt (for sending a corrupted copy of it). */
function firstReport(a: TaskAttempt) {
  return {
    taskId: a.taskId, attemptNumber: a.attemptNumber, jobId: a.jobId, transitions: a.stateTransitions, nodeId: '', workerId: '', workerPid: 0, errorType: '', errorMessage: '',
  };
}

describe('task events', () => {
  it('the head stores every attempt of a job with its states, error types, worker, parent and output range', async () => {
    const cluster = newCluster({ RAYTS_REPORT_RESOURCES_PERIOD_MS: '200' });
    const head = await cluster.startHead({ numCpus: 2 });
    const other = await cluster.startWorker(head, { name: 'w2', ip: '127.0.0.2', numCpus: 1, resources: '{"elsewhere": 1}' });
    await cluster.waitForStatus(head.tempDir, (s) => s.nodes.active.length === 2);
    const dir = makeUserProject(cluster);
    const markerFile = join(dir, 'first-attempt.json');
    const run = await runDriver(cluster, dir, 'tasks/task_events.mjs', { address: head.gcsAddress, markerFile });
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf<Ran>(run);
    const firstAttempt = JSON.parse(readFileSync(markerFile, 'utf8')) as { taskId: string; workerId: string; pid: number };

    const token = readTokenFile(join(head.tempDir, 'state', 'token'));
    const client = new TaskEventClient(head.gcsAddress, { token, timeoutMs: 10_000 });
    let attempts: TaskAttempt[] = [];
    let stats = { stored: 0, droppedAtWorkers: 0, evictedAtGcs: 0 };
    try {
      // 3 squares, boom, 2 attempts of diesOnce, outer, inner, elsewhere, the actor's creation, 4 calls, the driver.
      const complete = await pollUntil(async () => {
        const reply = await client.getTaskEvents({ jobId: r.jobId });
        attempts = reply.attempts.map(taskAttemptFromInfo);
        stats = { stored: Number(reply.stored), droppedAtWorkers: Number(reply.droppedAtWorkers), evictedAtGcs: Number(reply.evictedAtGcs) };
        return attempts.length === 15 && attempts.every((a) => a.state === 'FINISHED' || a.state === 'FAILED');
      }, 30_000, 200);
      expect(complete, JSON.stringify(attempts.map((a) => [a.name, a.attemptNumber, a.state]))).toBe(true);

      // Garbage from a token holder is refused and changes nothing; no token, no answer.
      const before = await client.getTaskEvents({});
      await expect(client.addTaskEvents({ events: Buffer.from('garbage'), numDropped: 0 })).rejects.toThrow(InvalidRequestError);
      const badId = encodeTaskEvents([{ ...firstReport(attempts[0]!), taskId: '../../etc/passwd' }]);
      await expect(client.addTaskEvents({ events: badId, numDropped: 0 })).rejects.toThrow(/task_id must be 56 hex characters/);
      const after = await client.getTaskEvents({});
      expect([after.stored, after.droppedAtWorkers]).toEqual([before.stored, before.droppedAtWorkers]);
      const stranger = new TaskEventClient(head.gcsAddress, { token: 'ab'.repeat(32), timeoutMs: 10_000 });
      await expect(stranger.getTaskEvents({})).rejects.toThrow(AuthenticationError);
      stranger.close();
    } finally {
      client.close();
    }
    expect(stats).toMatchObject({ droppedAtWorkers: 0, evictedAtGcs: 0 });
    expect(attempts.every((a) => a.jobId === r.jobId)).toBe(true);
    const count = (type: string) => attempts.filter((a) => a.type === type).length;
    expect([count('NORMAL_TASK'), count('ACTOR_CREATION_TASK'), count('ACTOR_TASK'), count('DRIVER_TASK')]).toEqual([9, 1, 4, 1]);
    const byTask = (taskId: string) => attempts.filter((a) => a.taskId === taskId).sort((a, b) => a.attemptNumber - b.attemptNumber);
    const states = (a: TaskAttempt) => a.stateTransitions.map((t) => t.state);

    // The driver task: the parent of what the driver submits.
    const [driver] = attempts.filter((a) => a.type === 'DRIVER_TASK');
    expect(driver).toMatchObject({ state: 'FINISHED', nodeId: r.driver.nodeId, workerPid: r.driver.pid });

    // Normal tasks: where they ran as they saw it, the whole lifecycle in order, and their output's byte range.
    const nodeLogs = new Map([head, other].map((n) => [readJsonFile<RayletReady>(join(n.sessionDir, 'raylet.json')).nodeId, join(n.sessionDir, 'logs')]));
    const logs = (nodeId: string) => nodeLogs.get(nodeId) ?? `no node ${nodeId}`;
    for (const [i, sq] of r.squares.entries()) {
      const [a] = byTask(sq.taskId);
      expect(a).toMatchObject({
        name: 'square', funcOrClassName: 'square', type: 'NORMAL_TASK', state: 'FINISHED', attemptNumber: 0,
        nodeId: sq.nodeId, workerId: sq.workerId, workerPid: sq.pid, parentTaskId: driver!.taskId, requiredResources: { CPU: 1 },
      });
      expect(states(a!)).toEqual(['PENDING_ARGS_AVAIL', 'PENDING_NODE_ASSIGNMENT', 'SUBMITTED_TO_WORKER', 'RUNNING', 'FINISHED']);
      expect(a!.creationTimeMs! <= a!.startTimeMs! && a!.startTimeMs! <= a!.endTimeMs!).toBe(true);
      const log = a!.log!;
      expect(log).toMatchObject({ nodeId: sq.nodeId, stdoutFile: `worker-${sq.workerId}-${sq.pid}.out`, stderrFile: `worker-${sq.workerId}-${sq.pid}.err` });
      const x = i + 1;
      expect(readFileSync(join(logs(log.nodeId), log.stdoutFile)).subarray(log.stdoutStart, log.stdoutEnd).toString()).toBe(`square of ${x} is ${x * x}\n`);
      expect(readFileSync(join(logs(log.nodeId), log.stderrFile)).subarray(log.stderrStart, log.stderrEnd).toString()).toBe(`stderr of square ${x}\n`);
    }

    const [boom] = attempts.filter((a) => a.name === 'boom');
    expect(boom).toMatchObject({ state: 'FAILED', errorType: 'TASK_EXECUTION_EXCEPTION' });
    // The error's class and message, then the remote stack's frames (Ray's error_message carries the traceback).
    const [headline, ...frames] = boom!.errorMessage!.split('\n');
    expect(headline).toBe(`RangeError: ${r.boomError}`);
    expect(frames.length).toBeGreaterThan(0);
    expect(frames.every((f) => /^\s+at /.test(f))).toBe(true);
    expect(frames[0]).toContain('at boom (rayts://function/boom:'); // the shipped function's own frame
    expect(states(boom!)).toEqual(['PENDING_ARGS_AVAIL', 'PENDING_NODE_ASSIGNMENT', 'SUBMITTED_TO_WORKER', 'RUNNING', 'FAILED']);

    // The first attempt killed its worker (process.exit): WORKER_DIED there, then attempt 1 finished elsewhere.
    expect(firstAttempt.taskId).toBe(r.retried.taskId);
    const [first, second] = byTask(r.retried.taskId);
    expect(first).toMatchObject({ attemptNumber: 0, state: 'FAILED', errorType: 'WORKER_DIED', workerId: firstAttempt.workerId, workerPid: firstAttempt.pid, name: 'diesOnce' });
    expect(first!.errorMessage).toMatch(/exited with code 1/);
    expect(second).toMatchObject({ attemptNumber: 1, state: 'FINISHED', workerId: r.retried.workerId, workerPid: r.retried.pid, name: 'diesOnce' });
    expect(byTask(r.retried.taskId)).toHaveLength(2);

    // A task's nested task has it as parent.
    const [outer] = byTask(r.nested.taskId);
    const [inner] = byTask(r.nested.innerTaskId);
    expect(outer).toMatchObject({ name: 'outer', state: 'FINISHED', parentTaskId: driver!.taskId });
    expect(inner).toMatchObject({ name: 'inner', state: 'FINISHED', parentTaskId: r.nested.taskId });

    // A task forwarded to the other node: its outcome came back through the raylets with its run.
    const [remote] = byTask(r.remote.taskId);
    expect(remote).toMatchObject({ name: 'elsewhere', state: 'FINISHED', nodeId: r.remote.nodeId, workerId: r.remote.workerId, workerPid: r.remote.pid });
    expect(r.remote.nodeId).not.toBe(r.driver.nodeId);
    expect(states(remote!)).toEqual(['PENDING_ARGS_AVAIL', 'PENDING_NODE_ASSIGNMENT', 'SUBMITTED_TO_WORKER', 'RUNNING', 'FINISHED']);
    const remoteLog = remote!.log!;
    expect(remoteLog.nodeId).toBe(r.remote.nodeId);
    expect(logs(remoteLog.nodeId)).toBe(join(other.sessionDir, 'logs'));
    expect(readFileSync(join(logs(remoteLog.nodeId), remoteLog.stdoutFile)).subarray(remoteLog.stdoutStart, remoteLog.stdoutEnd).toString()).toBe('printed on the other node\n');

    // The actor: its creation and its calls, all on its worker.
    const actorId = r.calls[0]!.actorId;
    const [creation] = attempts.filter((a) => a.type === 'ACTOR_CREATION_TASK');
    expect(creation).toMatchObject({
      name: 'Counter.constructor', actorId, state: 'FINISHED', parentTaskId: driver!.taskId, workerPid: r.calls[0]!.pid, workerId: r.calls[0]!.workerId,
    });
    expect(states(creation!)).toEqual(['PENDING_ARGS_AVAIL', 'PENDING_NODE_ASSIGNMENT', 'SUBMITTED_TO_WORKER', 'RUNNING', 'FINISHED']);
    for (const call of r.calls) {
      const [a] = byTask(call.taskId);
      expect(a).toMatchObject({ name: 'Counter.incr', type: 'ACTOR_TASK', actorId, state: 'FINISHED', workerPid: call.pid, nodeId: call.nodeId, parentTaskId: driver!.taskId });
      expect(states(a!)).toEqual(['PENDING_ARGS_AVAIL', 'SUBMITTED_TO_WORKER', 'RUNNING', 'FINISHED']);
    }
    const [failedCall] = attempts.filter((a) => a.name === 'Counter.fail');
    expect(failedCall).toMatchObject({ type: 'ACTOR_TASK', state: 'FAILED', errorType: 'TASK_EXECUTION_EXCEPTION' });
    expect(failedCall!.errorMessage!.split('\n')[0]).toBe(`Error: ${r.callError}`);
    expect(failedCall!.errorMessage).toMatch(/\n\s+at /);
  });
});
