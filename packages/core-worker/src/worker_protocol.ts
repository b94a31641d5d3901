/** Messages between a raylet and its workers over the fork IPC channel. */
export type WorkerToRaylet = { type: 'ready'; workerId: string; pid: number };
export type RayletToWorker = { type: 'exit' };

export const workerMessages = {
  ready: (workerId: string, pid: number): WorkerToRaylet => ({ type: 'ready', workerId, pid }),
  exit: (): RayletToWorker => ({ type: 'exit' }),
};
