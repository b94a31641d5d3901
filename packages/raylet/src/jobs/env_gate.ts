/**
 * The door of the local scheduler: a task enters its queue only once its job's runtime env is ready on
 * this node, carrying that env (the worker it runs on is bound to it). A job without a runtime env, or
 * one prepared already, passes at once; tasks of a job whose env is being prepared wait here, in order,
 * and fail with RUNTIME_ENV_SETUP_FAILED when the setup fails.
 */
import type { Logger } from '@rayts/common';
import type { LocalScheduler, QueuedTask } from '../local_scheduler.js';
import type { RuntimeEnvs } from './runtime_envs.js';

export class RuntimeEnvGate {
  /** Tasks waiting for their job's env, by task id. */
  private readonly waiting = new Map<string, QueuedTask>();

  constructor(
    private readonly nodeId: string,
    private readonly envs: Pick<RuntimeEnvs, 'forJob'>,
    private readonly scheduler: Pick<LocalScheduler, 'enqueue'>,
    private readonly logger: Logger,
  ) {}

  enqueue(task: QueuedTask): void {
    if (task.env) {
      this.scheduler.enqueue(task);
      return;
    }
    const env = this.envs.forJob(task.spec.jobId);
    if (!(env instanceof Promise)) {
      task.env = env;
      this.scheduler.enqueue(task);
      return;
    }
    const { taskId } = task.spec;
    this.waiting.set(taskId, task);
    env.then((ready) => {
      if (this.waiting.get(taskId) !== task) return;
      this.waiting.delete(taskId);
      task.env = ready;
      this.scheduler.enqueue(task);
    }, (err: Error) => {
      if (this.waiting.get(taskId) !== task) return;
      this.waiting.delete(taskId);
      this.logger.warn('task failed: its runtime env could not be set up', { taskId, jobId: task.spec.jobId, error: err.message });
      task.deliver({
        taskId, attempt: task.spec.attempt, returnId: task.spec.returnId, nodeId: this.nodeId,
        failure: { type: 'RUNTIME_ENV_SETUP_FAILED', errorName: err.name, message: `the runtime env of job ${task.spec.jobId} could not be set up on node ${this.nodeId}: ${err.message}` },
      });
    });
  }

  /** Cancels a task waiting here: answered CANCELLED; false when it does not wait here. */
  cancel(taskId: string): boolean {
    const task = this.waiting.get(taskId);
    if (!task) return false;
    this.waiting.delete(taskId);
    task.deliver({ taskId, attempt: task.spec.attempt, returnId: task.spec.returnId, nodeId: this.nodeId, failure: { type: 'CANCELLED', message: 'cancelled while its runtime env was being set up' } });
    return true;
  }

  /** The job's driver went: its waiting tasks are dropped, as the scheduler drops its queued ones. */
  dropJob(jobId: string): void {
    for (const [taskId, task] of this.waiting) if (task.spec.jobId === jobId) this.waiting.delete(taskId);
  }

  /** Tasks waiting for a runtime env. */
  get waitingCount(): number {
    return this.waiting.size;
  }
}
