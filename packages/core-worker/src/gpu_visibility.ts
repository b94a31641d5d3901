/**
 * The GPUs this worker's current task or actor holds, and the `CUDA_VISIBLE_DEVICES` its code sees:
 * set to the ids (comma-separated) before the code runs, as Ray does. Work that holds no GPU sees
 * the variable as the worker inherited it (so a worker reused after a GPU task does not keep that
 * task's GPUs). `ray.getGpuIds()` and `getRuntimeContext().gpuIds` read `ids`.
 */
export const CUDA_VISIBLE_DEVICES = 'CUDA_VISIBLE_DEVICES';

export class GpuVisibility {
  private current: readonly number[] = [];
  private readonly inherited: string | undefined;

  /** `env`: the environment the code runs in (a worker passes its own `process.env`). */
  constructor(private readonly env: NodeJS.ProcessEnv) {
    this.inherited = env[CUDA_VISIBLE_DEVICES];
  }

  /** The GPU instance ids the running work holds ([] for none). */
  get ids(): number[] {
    return [...this.current];
  }

  assign(ids: readonly number[] | undefined): void {
    // Work without GPUs after work without GPUs (most tasks): nothing to change unless its code changed the variable.
    if (this.current.length === 0 && (!ids || ids.length === 0) && this.env[CUDA_VISIBLE_DEVICES] === this.inherited) return;
    this.current = ids ? [...ids] : [];
    if (this.current.length > 0) this.env[CUDA_VISIBLE_DEVICES] = this.current.join(',');
    else if (this.inherited === undefined) delete this.env[CUDA_VISIBLE_DEVICES];
    else this.env[CUDA_VISIBLE_DEVICES] = this.inherited;
  }
}
