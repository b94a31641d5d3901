/** What `ray.getRuntimeContext()` reports, in drivers and inside tasks. */
export interface RuntimeContext {
  jobId: string;
  nodeId: string;
  nodeIp: string;
  workerId: string;
  taskId: string;
  actorId: string;
}
