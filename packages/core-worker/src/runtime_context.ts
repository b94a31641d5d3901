/** What `ray.getRuntimeContext()` reports, in drivers and inside tasks. */
export interface RuntimeContext {
  jobId: string;
  nodeId: string;
  nodeIp: string;
  workerId: string;
  taskId: string;
  actorId: string;
  /** The GPU instance ids of the node the running task or actor holds ([] without GPUs, and in a driver). */
  gpuIds: number[];
}
