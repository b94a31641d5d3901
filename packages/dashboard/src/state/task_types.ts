// TEMPORARY until the task-event store lands in @rayts/gcs: the shape it was briefed with.
export type TaskState = 'NIL' | 'PENDING_ARGS_AVAIL' | 'PENDING_NODE_ASSIGNMENT' | 'SUBMITTED_TO_WORKER' | 'RUNNING' | 'FINISHED' | 'FAILED';
export interface TaskLogLocation { nodeId: string; stdoutFile: string; stderrFile: string; stdoutStart: number; stdoutEnd: number; stderrStart: number; stderrEnd: number }
export interface TaskAttempt {
  taskId: string; attemptNumber: number; name: string; funcOrClassName: string;
  type: 'NORMAL_TASK' | 'ACTOR_CREATION_TASK' | 'ACTOR_TASK' | 'DRIVER_TASK'; state: TaskState; jobId: string;
  actorId?: string; parentTaskId?: string; nodeId?: string; workerId?: string; workerPid?: number; errorType?: string; errorMessage?: string;
  requiredResources?: Record<string, number>; placementGroupId?: string; stateTransitions: { state: TaskState; timeMs: number }[];
  creationTimeMs?: number; startTimeMs?: number; endTimeMs?: number; log?: TaskLogLocation;
}
export interface TaskEventStats { stored: number; droppedAtWorkers: number; evictedAtGcs: number }
