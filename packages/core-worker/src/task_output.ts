/**
 * What task code prints: still written to the worker's own .out/.err files, and also sent (per
 * tick, while a task runs) to the job's driver, which shows it prefixed `(name pid=…, ip=…)` as Ray
 * does. Writes outside a task only go to the files.
 */
import type { CoreWorker } from './core_worker.js';
import type { TaskSpec } from './protocol/messages.js';

type Stream = 'stdout' | 'stderr';

export class TaskOutput {
  private task?: TaskSpec;
  private readonly pending: Record<Stream, string> = { stdout: '', stderr: '' };
  private scheduled = false;

  constructor(private readonly core: CoreWorker) {
    for (const stream of ['stdout', 'stderr'] as const) {
      const target = process[stream];
      const original = target.write.bind(target) as (...args: unknown[]) => boolean;
      target.write = ((chunk: unknown, ...rest: unknown[]) => {
        if (this.task) this.capture(stream, typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
        return original(chunk, ...rest);
      }) as typeof target.write;
    }
  }

  begin(task: TaskSpec): void {
    this.task = task;
  }

  end(): void {
    this.flush();
    this.task = undefined;
  }

  private capture(stream: Stream, text: string): void {
    this.pending[stream] += text;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    const task = this.task;
    if (!task) return;
    for (const stream of ['stdout', 'stderr'] as const) {
      const text = this.pending[stream];
      if (!text) continue;
      this.pending[stream] = '';
      this.core.send({
        type: 'logs', jobId: task.jobId, driverNodeId: task.driverNodeId, stream, text,
        prefix: `(${task.name} pid=${process.pid}, ip=${this.core.nodeIp})`,
      });
    }
  }
}
