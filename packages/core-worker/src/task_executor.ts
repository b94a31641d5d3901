/**
 * Executes the tasks a raylet sends to this worker, one at a time and in arrival order: fetch the
 * function by hash from the GCS function table (cached), decode the arguments, run, encode the
 * result or the error, report to the raylet. An error thrown by the task never takes the worker down.
 */
import type { CoreWorker } from './core_worker.js';
import { FUNCTION_NAMESPACE, type RemoteFunctionDescriptor } from './core_worker.js';
import { decode, encode } from './serialization.js';
import { currentTask } from './runtime_context.js';
import { TaskOutput } from './task_output.js';
import type { Execute, TaskFailure, TaskOutcome, TaskSpec } from './protocol/messages.js';

export type Compile = (desc: RemoteFunctionDescriptor, jobDir: string) => (...args: unknown[]) => unknown;

export class TaskExecutor {
  private readonly functions = new Map<string, Promise<(...args: unknown[]) => unknown>>();
  private queue: Execute[] = [];
  private running = false;

  readonly output: TaskOutput;
  /** Set once this worker hosts an actor: runs one call on it. */
  actorCall?: (task: TaskSpec, reply: (outcome: TaskOutcome) => void) => void;

  constructor(private readonly core: CoreWorker, private readonly compile: Compile) {
    this.output = new TaskOutput(core);
    core.onExecute = (m) => {
      if (m.task.actorId) {
        // A call relayed by the raylet (its caller is on another node): answered over the same link.
        this.actorCall?.(m.task, (outcome) => this.core.send({ type: 'taskDone', outcome }));
        return;
      }
      // A blocked task must not have others waiting behind it: hand new arrivals straight back.
      if (this.core.isBlocked) {
        this.core.send({ type: 'returnTasks', taskIds: [m.task.taskId] });
        return;
      }
      this.queue.push(m);
      if (!this.running) void this.drain();
    };
    core.onBlocked = () => {
      if (this.queue.length === 0) return;
      const returned = this.queue.splice(0);
      this.core.send({ type: 'returnTasks', taskIds: returned.map((m) => m.task.taskId) });
    };
  }

  private async drain(): Promise<void> {
    this.running = true;
    while (this.queue.length > 0) {
      const next = this.queue.shift()!;
      const outcome = await this.run(next.task, next.jobDir);
      this.core.send({ type: 'taskDone', outcome });
    }
    this.running = false;
  }

  /** The compiled function or class; `known` is its function-table entry when the caller has it already. */
  loadFunction(hash: string, jobDir: string, known?: Uint8Array): Promise<(...args: unknown[]) => unknown> {
    let fn = this.functions.get(hash);
    if (!fn) {
      const entry = known ? Promise.resolve(Buffer.from(known.buffer, known.byteOffset, known.byteLength)) : this.core.gcs.kvGet(FUNCTION_NAMESPACE, hash);
      fn = entry.then((value) => {
        if (!value) throw new Error(`function ${hash} is not in the GCS function table`);
        const desc = { ...JSON.parse(value.toString('utf8')), hash } as RemoteFunctionDescriptor;
        return this.compile(desc, jobDir);
      });
      this.functions.set(hash, fn);
      fn.catch(() => this.functions.delete(hash));
    }
    return fn;
  }

  failure(type: TaskFailure['type'], err: unknown): TaskFailure {
    const e = err instanceof Error ? err : new Error(String(err));
    let cause: Uint8Array | undefined;
    try {
      cause = encode(err, 'the error');
    } catch {
      cause = undefined;
    }
    return { type, message: e.message, errorName: e.name, stack: e.stack ?? '', cause, nodeIp: this.core.nodeIp, pid: process.pid };
  }

  async run(task: TaskSpec, jobDir: string): Promise<TaskOutcome> {
    const base = { taskId: task.taskId, attempt: task.attempt, returnId: task.returnId, nodeId: this.core.address.nodeId };
    let fn: (...args: unknown[]) => unknown;
    let args: unknown[];
    try {
      fn = await this.loadFunction(task.fnHash, jobDir);
      args = await this.resolveArgs(task.args);
    } catch (err) {
      return { ...base, failure: this.failure('APPLICATION', err) };
    }
    currentTask.taskId = task.taskId;
    // Tasks this one submits belong to its job; what it prints goes to that job's driver.
    this.core.options.jobId = task.jobId;
    this.core.options.jobDir = jobDir;
    this.core.driverNodeId = task.driverNodeId;
    this.output.begin(task);
    let result: unknown;
    try {
      result = await fn(...args);
    } catch (err) {
      return { ...base, failure: this.failure('APPLICATION', err) };
    } finally {
      currentTask.taskId = '';
      this.output.end();
    }
    return this.storeResult(task, result);
  }

  /** Argument values: inline ones decoded, stored ones read in place (pulled first if elsewhere). */
  resolveArgs(args: TaskSpec['args']): Promise<unknown[]> {
    return Promise.all(args.map((a) => (a.kind === 'value' ? decode(a.data) : this.core.readPlasma(a.objectId, a.nodeId))));
  }

  /** The outcome of a run that returned `result`: small values travel back inline, large ones are stored here. */
  async storeResult(task: TaskSpec, result: unknown): Promise<TaskOutcome> {
    const base = { taskId: task.taskId, attempt: task.attempt, returnId: task.returnId, nodeId: this.core.address.nodeId };
    try {
      const stored = await this.core.storeValue(task.returnId, result, `the value returned by ${task.name}`);
      return { ...base, value: stored.kind === 'inline' ? { kind: 'inline', data: stored.data } : { kind: 'plasma', nodeId: stored.nodeId, size: stored.size } };
    } catch (err) {
      const e = err as Error;
      const type = e.name === 'SerializationError' ? 'SERIALIZATION' : 'APPLICATION';
      return { ...base, failure: { type, message: e.message, errorName: e.name, stack: e.stack ?? '', nodeIp: this.core.nodeIp, pid: process.pid } };
    }
  }
}
