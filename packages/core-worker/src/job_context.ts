/**
 * The job this process works for, and what it runs now. A driver's job is fixed; a worker takes on
 * the job of each task or actor it runs, so that what that code submits belongs to the same job and
 * what it prints goes to that job's driver.
 */
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
  ) {}
}
