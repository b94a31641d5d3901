/**
 * Executes the tasks a raylet sends to this worker, one at a time and in arrival order: fetch the
 * function by hash from the GCS function table (cached), decode the arguments, run, encode the
 * result or the error, report to the raylet. An error thrown by the task never takes the worker down.
 *
 * It also keeps the worker's blocked state: a task waiting in `get`/`wait` gives the worker's CPU
 * back, and the tasks queued behind it go back to the raylet, so nothing waits on a task that
 * waits on others.
 */
import { FUNCTION_NAMESPACE, SerializationError } from '@rayts/common';
import { errorToFailure } from './failure.js';
import { parseFunctionDescriptor, type RemoteFunctionDescriptor } from './function/descriptor.js';
import { TaskOutput } from './task_output.js';
import type { AttemptRecorder } from './attempt_recorder.js';
import type { JobContext } from './job_context.js';
import type { GpuVisibility } from './gpu_visibility.js';
import type { Blocking } from './object_getter.js';
import type { PlasmaClient } from './plasma_client.js';
import type { Decoder } from './serialization.js';
import type { ClientMessage, Execute, TaskFailure, TaskOutcome, TaskSpec } from './protocol/messages.js';
import type { RunningAttempt } from './event_report.js';

export type Compile = (desc: RemoteFunctionDescriptor, jobDir: string) => (...args: unknown[]) => unknown;

export interface TaskExecutorDeps {
  transport: { send(message: ClientMessage): void };
  functionTable: { kvGet(namespace: string, key: string): Promise<Buffer | undefined> };
  plasma: Pick<PlasmaClient, 'readPlasma' | 'storeValue'>;
  decoder: Decoder;
  /** Takes on the job of each task it runs. */
  job: JobContext;
  /** Set to each task's GPUs before it runs. */
  gpus: Pick<GpuVisibility, 'assign'>;
  node: { nodeId: string; nodeIp: string };
  compile: Compile;
  /** Task events of the attempts run here (and the log offsets of their output). */
  attempts: AttemptRecorder;
}

/**
 * Where a task came from, and so where its outcome goes: the raylet (tasks it dispatched), or the
 * connection of an owner this worker is leased to (tasks pushed directly).
 */
export interface TaskOrigin {
  /** The task starts running (counted where the raylet reads it, for pushed tasks). */
  began(): void;
  reply(outcome: TaskOutcome): void;
  /** Tasks handed back unrun because the running one blocked in get. */
  giveBack(taskIds: string[]): void;
}

interface Queued { message: Execute; run: RunningAttempt | undefined; origin: TaskOrigin }

export class TaskExecutor implements Blocking {
  private readonly functions = new Map<string, Promise<(...args: unknown[]) => unknown>>();
  private queue: Queued[] = [];
  private running = false;
  /** Nested get/wait calls of the running task (blocked while > 0). */
  private blockedDepth = 0;
  readonly output: TaskOutput;

  /** Tasks the raylet dispatched: their outcomes and returns go back to it. */
  readonly fromRaylet: TaskOrigin;

  constructor(private readonly deps: TaskExecutorDeps) {
    this.output = new TaskOutput({ transport: deps.transport, nodeIp: deps.node.nodeIp, counter: deps.attempts.offsets });
    const { transport } = deps;
    this.fromRaylet = {
      began() {},
      reply: (outcome) => transport.send({ type: 'taskDone', outcome }),
      giveBack: (taskIds) => transport.send({ type: 'returnTasks', taskIds }),
    };
  }

  /** A task for this worker (not an actor call: those go to the actor host), from the raylet or a lease holder. */
  execute(m: Execute, origin: TaskOrigin = this.fromRaylet): void {
    // A blocked task must not have others waiting behind it: hand new arrivals straight back.
    if (this.blockedDepth > 0) {
      origin.giveBack([m.task.taskId]); // not received here, as far as task events go
      return;
    }
    this.queue.push({ message: m, run: this.deps.attempts.received(m.task), origin });
    if (!this.running) void this.drain();
  }

  block(): void {
    if (this.blockedDepth++ > 0) return;
    this.deps.transport.send({ type: 'blocked' });
    if (this.queue.length === 0) return;
    const returned = this.queue.splice(0);
    const byOrigin = new Map<TaskOrigin, string[]>();
    for (const q of returned) {
      this.deps.attempts.returned(q.run);
      const ids = byOrigin.get(q.origin);
      if (ids) ids.push(q.message.task.taskId);
      else byOrigin.set(q.origin, [q.message.task.taskId]);
    }
    for (const [origin, ids] of byOrigin) origin.giveBack(ids);
  }

  unblock(): void {
    if (--this.blockedDepth === 0) this.deps.transport.send({ type: 'unblocked' });
  }

  private async drain(): Promise<void> {
    this.running = true;
    while (this.queue.length > 0) {
      const { message, run, origin } = this.queue.shift()!;
      origin.began();
      const outcome = await this.run(message.task, message.jobDir, run, message.gpuIds);
      origin.reply(this.deps.attempts.end(run, outcome));
    }
    this.running = false;
  }

  /** The compiled function or class; `known` is its function-table entry when the caller has it already. */
  loadFunction(hash: string, jobDir: string, known?: Uint8Array): Promise<(...args: unknown[]) => unknown> {
    let fn = this.functions.get(hash);
    if (!fn) {
      const entry = known ? Promise.resolve(known) : this.deps.functionTable.kvGet(FUNCTION_NAMESPACE, hash);
      fn = entry.then((value) => {
        if (!value) throw new Error(`function ${hash} is not in the GCS function table`);
        return this.deps.compile(parseFunctionDescriptor(value, hash), jobDir);
      });
      this.functions.set(hash, fn);
      fn.catch(() => this.functions.delete(hash));
    }
    return fn;
  }

  /** What the code running here threw, as a failure (with its origin and the thrown value). */
  failure(type: TaskFailure['type'], err: unknown): TaskFailure {
    return errorToFailure(type, err, { nodeIp: this.deps.node.nodeIp, pid: process.pid });
  }

  private outcomeBase(task: TaskSpec): Pick<TaskOutcome, 'taskId' | 'attempt' | 'returnId' | 'nodeId'> {
    return { taskId: task.taskId, attempt: task.attempt, returnId: task.returnId, nodeId: this.deps.node.nodeId };
  }

  /** Runs the task (seeing the GPUs `gpuIds`); `run` (task events) gets its start. */
  async run(task: TaskSpec, jobDir: string, run?: RunningAttempt, gpuIds?: number[]): Promise<TaskOutcome> {
    const base = this.outcomeBase(task);
    let fn: (...args: unknown[]) => unknown;
    let args: unknown[];
    try {
      fn = await this.loadFunction(task.fnHash, jobDir);
      args = await this.resolveArgs(task.args);
    } catch (err) {
      return { ...base, failure: this.failure('APPLICATION', err) };
    }
    this.deps.job.taskId = task.taskId;
    // Tasks this one submits belong to its job; what it prints goes to that job's driver.
    this.deps.job.jobId = task.jobId;
    this.deps.job.jobDir = jobDir;
    this.deps.job.driverNodeId = task.driverNodeId;
    this.deps.gpus.assign(gpuIds);
    this.output.begin(task);
    this.deps.attempts.start(run);
    let result: unknown;
    try {
      result = await fn(...args);
    } catch (err) {
      return { ...base, failure: this.failure('APPLICATION', err) };
    } finally {
      this.deps.job.taskId = '';
      this.output.end();
    }
    return this.storeResult(task, result);
  }

  /** Argument values: inline ones decoded, stored ones read in place (pulled first if elsewhere). */
  resolveArgs(args: TaskSpec['args']): Promise<unknown[]> {
    return Promise.all(args.map((a) => (a.kind === 'value' ? this.deps.decoder.decode(a.data) : this.deps.plasma.readPlasma(a.objectId, a.nodeId, this.deps.decoder))));
  }

  /** The outcome of a run that returned `result`: small values travel back inline, large ones are stored here. */
  async storeResult(task: TaskSpec, result: unknown): Promise<TaskOutcome> {
    const base = this.outcomeBase(task);
    try {
      const stored = await this.deps.plasma.storeValue(task.returnId, result, `the value returned by ${task.name}`);
      return { ...base, value: stored.kind === 'inline' ? { kind: 'inline', data: stored.data } : { kind: 'plasma', nodeId: stored.nodeId, size: stored.size } };
    } catch (err) {
      // The value could not be stored: no point in shipping it back as the cause.
      return { ...base, failure: errorToFailure(err instanceof SerializationError ? 'SERIALIZATION' : 'APPLICATION', err, { nodeIp: this.deps.node.nodeIp, pid: process.pid }, false) };
    }
  }
}
