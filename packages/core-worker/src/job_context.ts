/**
 * The job this process works for, and what it runs now. A driver's job is fixed; a worker takes on
 * the job of each task or actor it runs, so that what that code submits belongs to the same job and
 * what it prints goes to that job's driver.
 */
import { actorCreationTaskId } from './ids.js';

export class JobContext {
  /** The task running now ('' between tasks and in a driver); `getRuntimeContext` reports it. */
  taskId = '';
  /** The actor this worker hosts ('' if none). */
  actorId = '';

  constructor(
    public jobId: string,
    /** Where the job's code imports resolve from. */
    public jobDir: string | undefined,
    /** The node of the job's driver ('' in a driver: its own node). */
    public driverNodeId: string,
    /** A driver's own task id (Ray's driver task): the parent of what it submits ('' in a worker). */
    readonly driverTaskId = '',
  ) {}

  /**
   * The task submitting now, for task events: the running task, else the creation of the actor this
   * worker hosts (its constructor), else the driver task. In an actor running calls concurrently it
   * is the call that started last.
   */
  get submitterTaskId(): string {
    if (this.taskId) return this.taskId;
    if (this.actorId) return actorCreationTaskId(this.actorId);
    return this.driverTaskId;
  }
}
