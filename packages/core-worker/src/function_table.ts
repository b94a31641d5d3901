/**
 * The GCS function table as a worker reads it: a worker that meets a function for the first time
 * right after a head restart (its link to the head still reconnecting) waits for the head to answer
 * again — up to the time a raylet itself waits for its head — instead of failing the task.
 */
import { ClusterUnreachableError, type GcsClient } from '@rayts/common';

export interface FunctionTable {
  kvGet(namespace: string, key: string): Promise<Buffer | undefined>;
}

export class PatientFunctionTable implements FunctionTable {
  constructor(
    private readonly gcs: Pick<GcsClient, 'kvGet'>,
    /** How long the head may stay unreachable (the raylet's own horizon, gcsReconnectTimeoutS). */
    private readonly patienceMs: number,
    private readonly retryMs = 200,
  ) {}

  async kvGet(namespace: string, key: string): Promise<Buffer | undefined> {
    const deadline = performance.now() + this.patienceMs;
    for (;;) {
      try {
        return await this.gcs.kvGet(namespace, key);
      } catch (err) {
        if (!(err instanceof ClusterUnreachableError) || performance.now() + this.retryMs > deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, this.retryMs));
      }
    }
  }
}
