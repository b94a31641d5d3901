import { describe, expect, it } from 'vitest';
import { GpuVisibility } from './gpu_visibility.js';
import { JobContext } from './job_context.js';
import { TaskExecutor } from './task_executor.js';
import { AttemptRecorder } from './attempt_recorder.js';
import { OutputOffsets } from './output_offsets.js';
import { RecordingTaskEvents } from './task_events.test_helper.js';
import { unpackRun, type ClientMessage, type Execute, type TaskSpec } from './protocol/messages.js';

const spec = (taskId: string): TaskSpec => ({
  taskId, jobId: 'job2', attempt: 0, name: taskId, fnHash: 'h', args: [], returnId: `r-${taskId}`, resources: {}, strategy: { kind: 'DEFAULT' },
  owner: { nodeId: 'n', clientId: 'c' }, depth: 0, driverNodeId: 'driver-node',
});
const execute = (taskId: string): Execute => ({ type: 'execute', task: spec(taskId), jobDir: '/job' });

/** An executor over fakes: every task runs `body`; the transport records what the worker says. */
function setup(body: () => unknown) {
  const sent: ClientMessage[] = [];
  const job = new JobContext('', undefined, '');
  const events = new RecordingTaskEvents();
  const offsets = new OutputOffsets({ size: () => undefined });
  const executor = new TaskExecutor({
    transport: { send: (m) => sent.push(m) },
    functionTable: { kvGet: async () => Buffer.from(JSON.stringify({ kind: 'function', name: 'f', source: 'x' })) },
    plasma: {
      readPlasma: async () => undefined,
      storeValue: async (id, value) => ({ kind: 'inline', data: Buffer.from(JSON.stringify(value)), objectId: id }),
    },
    decoder: { decode: () => undefined, decodeInPlace: () => undefined, decodeStreamed: () => undefined },
    job,
    gpus: new GpuVisibility({}),
    node: { nodeId: 'n', nodeIp: '10.0.0.1' },
    compile: () => body as (...args: unknown[]) => unknown,
    attempts: new AttemptRecorder({ events, offsets, workerId: 'w1' }),
  });
  return { executor, sent, job, events };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('TaskExecutor', () => {
  it('runs tasks one at a time in order, in their job, and reports each', async () => {
    const t = setup(() => 7);
    t.executor.execute(execute('a'));
    t.executor.execute(execute('b'));
    for (let i = 0; i < 5; i++) await tick();
    const done = t.sent.filter((m) => m.type === 'taskDone');
    expect(done.map((m) => m.type === 'taskDone' && m.outcome.taskId)).toEqual(['a', 'b']);
    expect(t.job).toMatchObject({ jobId: 'job2', jobDir: '/job', driverNodeId: 'driver-node' });
  });

  it('a blocked task hands back the tasks queued behind it and new arrivals, until it unblocks', async () => {
    let release!: () => void;
    const t = setup(() => new Promise<void>((r) => { release = r; }));
    t.executor.execute(execute('running'));
    t.executor.execute(execute('queued'));
    await tick();
    t.executor.block();
    t.executor.block(); // nested waits: one message
    expect(t.sent).toEqual([{ type: 'blocked' }, { type: 'returnTasks', taskIds: ['queued'] }]);
    t.executor.execute(execute('late'));
    expect(t.sent.at(-1)).toEqual({ type: 'returnTasks', taskIds: ['late'] });
    t.executor.unblock();
    expect(t.sent.some((m) => m.type === 'unblocked')).toBe(false);
    t.executor.unblock();
    expect(t.sent.at(-1)).toEqual({ type: 'unblocked' });
    release();
    for (let i = 0; i < 5; i++) await tick();
    const done = t.sent.filter((m) => m.type === 'taskDone');
    expect(done.map((m) => m.type === 'taskDone' && m.outcome.taskId)).toEqual(['running']);
  });

  it('each outcome carries its run (worker, times, log range) to the owner; the attempt is tracked only while here', async () => {
    const t = setup(() => 7);
    t.executor.execute(execute('a'));
    t.executor.execute(execute('b'));
    t.executor.block(); // 'b' goes back to the raylet unrun
    t.executor.unblock();
    for (let i = 0; i < 5; i++) await tick();
    const done = t.sent.find((m) => m.type === 'taskDone');
    const run = done?.type === 'taskDone' && done.outcome.run ? unpackRun(done.outcome.run) : undefined;
    expect(run).toMatchObject({ workerId: 'w1', workerPid: process.pid, stdoutStart: -1, stdoutEnd: -1 });
    expect(run!.receivedMs! <= run!.startMs! && run!.startMs! <= run!.endMs!).toBe(true);
    expect(t.events.of('a')).toEqual(['track:0', 'untrack']);
    expect(t.events.of('b')).toEqual(['track:0', 'untrack']);
    expect(t.events.events.filter((e) => e.kind === 'attemptEnded')).toHaveLength(1); // 'a' ran here, 'b' did not
  });

  it('reports what a task threw as an APPLICATION failure with its origin', async () => {
    const t = setup(() => { throw new TypeError('bad'); });
    t.executor.execute(execute('a'));
    for (let i = 0; i < 5; i++) await tick();
    const done = t.sent.find((m) => m.type === 'taskDone');
    expect(done?.type === 'taskDone' && done.outcome.failure).toMatchObject({ type: 'APPLICATION', message: 'bad', errorName: 'TypeError', nodeIp: '10.0.0.1' });
  });

  it('answers a task where it came from: a lease holder gets its outcome and, when the running task blocks, its queued tasks back', async () => {
    let release!: () => void;
    const t = setup(() => new Promise<void>((r) => { release = r; }));
    const said: string[] = [];
    const holder = {
      began: () => said.push('began'),
      reply: (o: { taskId: string }) => said.push(`reply ${o.taskId}`),
      giveBack: (ids: string[]) => said.push(`back ${ids.join(',')}`),
    };
    t.executor.execute(execute('pushed-1'), holder);
    t.executor.execute(execute('relayed'));
    t.executor.execute(execute('pushed-2'), holder);
    await tick();
    t.executor.block();
    // Each origin gets its own tasks back; the raylet only hears about the blocking and its task.
    expect(said).toEqual(['began', 'back pushed-2']);
    expect(t.sent).toEqual([{ type: 'blocked' }, { type: 'returnTasks', taskIds: ['relayed'] }]);
    t.executor.execute(execute('pushed-3'), holder);
    expect(said.at(-1)).toBe('back pushed-3');
    t.executor.unblock();
    release();
    for (let i = 0; i < 5; i++) await tick();
    expect(said.at(-1)).toBe('reply pushed-1');
    expect(t.sent.some((m) => m.type === 'taskDone')).toBe(false);
  });
});

