/**
 * The job this process works for, and what it runs now. A driver's job is fixed; a worker takes on
 * the job of each task or actor it runs, so that what that code submits belongs to the same job and
 * what it prints goes to that job's driver.
 */
import { RaytsError } from '@rayts/common';
import { actorCreationTaskId } from './ids.js';
import type { BindJob } from './protocol/messages.js';

/** The parts of a process that binding it to a job changes (a worker passes its own `process`). */
export interface JobProcess {
  chdir(dir: string): void;
  env: NodeJS.ProcessEnv;
}

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
   * The raylet binds this worker to a job, before anything else of the job runs here: its prepared
   * working_dir becomes the current directory and the import base, its env_vars join the environment.
   */
  bindJob(m: BindJob, proc: JobProcess): void {
    if (m.dir) {
      try {
        proc.chdir(m.dir);
      } catch (err) {
        throw new RaytsError(`this worker cannot enter the working_dir of job ${m.jobId} (${m.dir}): ${(err as Error).message}`);
      }
      this.jobDir = m.dir;
    }
    Object.assign(proc.env, m.envVars);
    this.jobId = m.jobId;
  }

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
