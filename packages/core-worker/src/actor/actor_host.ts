/**
 * The actor side of a worker: the raylet sends `createActor`, the host builds the
 * instance from the shipped class and opens its own Unix socket, where callers of the same node
 * connect directly (one hop each way instead of two through the raylet). Calls from other nodes
 * arrive relayed over the raylet connection. Calls start in arrival order; up to `maxConcurrency`
 * run at once (1 for classes without async methods, so each call sees the previous one's state).
 */
import type { Server } from 'node:net';
import { listenForCallers } from '../caller_socket.js';
import type { TaskExecutor } from '../task_executor.js';
import type { JobContext } from '../job_context.js';
import type { GpuVisibility } from '../gpu_visibility.js';
import type { AttemptRecorder } from '../attempt_recorder.js';
import { ownerFailure, type RunningAttempt } from '../event_report.js';
import type { ActorCreated, CreateActor, Execute, TaskOutcome, TaskResult, TaskSpec } from '../protocol/messages.js';
import { noCallCounter, type CallCounter } from './call_counts.js';

export interface ActorHostDeps {
  transport: { send(message: ActorCreated): void };
  /** Loads the class, decodes arguments, runs calls with their output captured, stores results. */
  executor: Pick<TaskExecutor, 'loadFunction' | 'resolveArgs' | 'failure' | 'output' | 'storeResult'>;
  /** Takes on the actor's job. */
  job: JobContext;
  /** Set to the actor's GPUs (held for its life) before its constructor runs. */
  gpus: Pick<GpuVisibility, 'assign'>;
  nodeId: string;
  /** The cluster token local callers must present. */
  token: string;
  /** Counts the actor's calls where the raylet reads them (the path comes with createActor). */
  openCallCounter(path: string): CallCounter;
  /** Task events of the creation and of each call. */
  attempts: AttemptRecorder;
}

type Instance = Record<string, unknown>;
interface QueuedCall { task: TaskSpec; reply: (outcome: TaskOutcome) => void; run: RunningAttempt | undefined }

export class ActorHost {
  private instance?: Instance;
  private className = '';
  private maxConcurrency = 1;
  private running = 0;
  private readonly queue: QueuedCall[] = [];
  private server?: Server;
  private calls: CallCounter = noCallCounter;

  private readonly executor: ActorHostDeps['executor'];

  constructor(private readonly deps: ActorHostDeps) {
    this.executor = deps.executor;
  }

  /** The raylet makes this worker the actor's: construct it and open the callers' socket. */
  async create(m: CreateActor): Promise<void> {
    const { actor } = m;
    const { attempts } = this.deps;
    attempts.creationReceived(actor);
    // Open the callers' socket while the class loads and the constructor runs: nobody learns its
    // path before the actor is answered alive, and calls wait in the queue until the instance exists.
    const listening = this.listen(m.socketPath);
    listening.catch(() => undefined);
    if (m.callCountsPath) this.calls = this.deps.openCallCounter(m.callCountsPath);
    try {
      const cls = (await this.executor.loadFunction(actor.classHash, m.jobDir, actor.classDescriptor)) as unknown as new (...args: unknown[]) => Instance;
      const args = await this.executor.resolveArgs(actor.args);
      this.deps.job.actorId = actor.actorId;
      this.deps.job.jobId = actor.jobId;
      this.deps.job.driverNodeId = actor.driverNodeId;
      this.deps.gpus.assign(m.gpuIds);
      this.className = actor.className;
      this.maxConcurrency = Math.max(1, actor.maxConcurrency);
      process.title = `rayts::${actor.className}`;
      attempts.creationStarted(actor);
      this.instance = new cls(...args);
      await listening;
    } catch (err) {
      void listening.then(() => this.server?.close(), () => undefined);
      const failure = this.executor.failure('APPLICATION', err);
      attempts.creationEnded(actor, ownerFailure(failure));
      this.deps.transport.send({ type: 'actorCreated', actorId: actor.actorId, failure });
      return;
    }
    attempts.creationEnded(actor);
    this.deps.transport.send({ type: 'actorCreated', actorId: actor.actorId });
    this.pump();
  }

  /** Callers on this node connect here; the first frame must carry the cluster token. */
  private async listen(path: string): Promise<void> {
    this.server = await listenForCallers<Execute, TaskResult>(path, this.deps.token, (conn) => {
      conn.on('message', (m) => {
        if (m.type === 'execute') this.call(m.task, (outcome) => conn.send({ type: 'taskResult', outcome }));
      });
    });
  }

  /** A call on the actor (from a local caller's socket, or relayed by the raylet); `reply` gets its outcome. */
  call(task: TaskSpec, reply: (outcome: TaskOutcome) => void): void {
    this.queue.push({ task, reply, run: this.deps.attempts.received(task) });
    this.pump();
  }

  private pump(): void {
    if (!this.instance) return; // still constructing: create() pumps once it is done
    while (this.running < this.maxConcurrency && this.queue.length > 0) {
      const next = this.queue.shift()!;
      this.running += 1;
      this.calls.started();
      void this.run(next.task, next.run).then((outcome) => {
        this.running -= 1;
        // Counted before the reply goes: a caller that saw the result finds it counted.
        this.calls.ended(!!outcome.failure);
        next.reply(this.deps.attempts.end(next.run, outcome));
        this.pump();
      });
    }
  }

  private async run(task: TaskSpec, run: RunningAttempt | undefined): Promise<TaskOutcome> {
    const base = { taskId: task.taskId, attempt: task.attempt, returnId: task.returnId, nodeId: this.deps.nodeId };
    const method = task.method ?? '';
    const fn = this.instance?.[method];
    if (typeof fn !== 'function' || method === 'constructor') {
      return { ...base, failure: this.executor.failure('APPLICATION', new TypeError(`${this.className} has no method '${method}'`)) };
    }
    let result: unknown;
    this.deps.job.taskId = task.taskId;
    this.executor.output.begin(task);
    this.deps.attempts.start(run);
    try {
      const args = await this.executor.resolveArgs(task.args);
      result = await (fn as (...a: unknown[]) => unknown).apply(this.instance, args);
    } catch (err) {
      return { ...base, failure: this.executor.failure('APPLICATION', err) };
    } finally {
      this.executor.output.end();
    }
    return this.executor.storeResult(task, result);
  }
}
