/**
 * Which worker the memory monitor kills (Ray's worker killing policy, retriable first): the newest
 * worker running a retriable task (a task with retries, or an actor with restarts left), else the
 * newest one running a non-retriable task. "Newest" is when its task (or its actor) started: the
 * work that made the least progress is lost. Idle workers, drivers and the raylet are never
 * candidates: they are not in the list.
 */

/** A worker of this node that runs something (a task, or hosts an actor). */
export interface WorkerCandidate {
  workerId: string;
  pid: number;
  /** When its current task (or its actor) started, ms on any one monotonic clock. */
  startedAtMs: number;
  /** A task with retries (maxRetries ≠ 0), or an actor with restarts left. */
  retriable: boolean;
  /** What it runs, for the message: the task's name, or `Class` for an actor. */
  taskName: string;
  taskId: string;
  actorId?: string;
}

/** The worker to kill, or undefined when none runs anything. */
export function pickVictim(candidates: readonly WorkerCandidate[]): WorkerCandidate | undefined {
  let best: WorkerCandidate | undefined;
  for (const c of candidates) {
    if (!best || (c.retriable && !best.retriable) || (c.retriable === best.retriable && c.startedAtMs > best.startedAtMs)) best = c;
  }
  return best;
}
