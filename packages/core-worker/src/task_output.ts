/**
 * What task code prints: still written to the worker's own .out/.err files, and also sent (per
 * turn of the event loop, while a task runs) to the job's driver, which shows it prefixed
 * `(name pid=…, ip=…)` as Ray does. Writes outside a task only go to the files. Every write is
 * counted (output_offsets.ts), so each attempt knows its byte range in the files.
 */
import { TurnBatcher, type BatchOutcome } from '@rayts/common';
import type { LogLines, TaskSpec } from './protocol/messages.js';

type Stream = 'stdout' | 'stderr';

interface Captured {
  task: TaskSpec;
  stream: Stream;
  text: string;
}

export interface TaskOutputDeps {
  transport: { send(message: LogLines): void };
  nodeIp: string;
  /** Counts what is written to the worker's log files (the log range of each attempt). */
  counter: { written(stream: Stream, bytes: number): void };
}

export class TaskOutput {
  private task?: TaskSpec;
  private readonly batcher = new TurnBatcher<Captured, void>((items) => this.send(items));

  constructor(private readonly deps: TaskOutputDeps) {
    for (const stream of ['stdout', 'stderr'] as const) {
      const target = process[stream];
      const original = target.write.bind(target) as (...args: unknown[]) => boolean;
      target.write = ((chunk: unknown, ...rest: unknown[]) => {
        const text = typeof chunk === 'string';
        deps.counter.written(stream, text ? Buffer.byteLength(chunk, typeof rest[0] === 'string' ? rest[0] as BufferEncoding : 'utf8') : ((chunk as Uint8Array | null)?.byteLength ?? 0));
        if (this.task) this.capture(this.task, stream, text ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
        return original(chunk, ...rest);
      }) as typeof target.write;
    }
  }

  begin(task: TaskSpec): void {
    this.task = task;
  }

  /** The task is done: what it printed leaves now, before its result. */
  end(): void {
    this.batcher.flush();
    this.task = undefined;
  }

  private capture(task: TaskSpec, stream: Stream, text: string): void {
    this.batcher.add({ task, stream, text }).catch(() => undefined); // nothing to report back to the writer
  }

  /** One message per task and stream, stdout first. */
  private send(items: Captured[]): BatchOutcome<void>[] {
    for (const task of new Set(items.map((i) => i.task))) {
      for (const stream of ['stdout', 'stderr'] as const) {
        const text = items.filter((i) => i.task === task && i.stream === stream).map((i) => i.text).join('');
        if (!text) continue;
        this.deps.transport.send({
          type: 'logs', jobId: task.jobId, driverNodeId: task.driverNodeId, stream, text,
          prefix: `(${task.name} pid=${process.pid}, ip=${this.deps.nodeIp})`,
        });
      }
    }
    return items.map(() => ({ ok: true, value: undefined }));
  }
}
