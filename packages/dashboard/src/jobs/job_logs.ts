/**
 * A submitted job's driver log, read from the driver's node through its raylet's log service (as
 * `state/log_routes.ts` reads any node's file): the whole file at once (`GET /api/jobs/:id/logs`),
 * or followed until the job ends (`GET /api/jobs/:id/logs/tail`).
 */
import { NotFoundError } from '@rayts/common';
import { TERMINAL_JOB_STATUSES, type JobApi, type JobLogLocation, type NodeRecord } from '@rayts/gcs';
import type { NodeLogs, StateSources } from '../state/sources.js';

/** What the log routes read: the jobs and the nodes' log services. */
export interface JobLogDeps {
  jobs: Pick<JobApi, 'get' | 'logLocation'>;
  sources: Pick<StateSources, 'nodes' | 'nodeLogs'>;
}

function liveNode(sources: JobLogDeps['sources'], nodeId: string): NodeRecord | undefined {
  const node = sources.nodes().find((n) => n.record.nodeId === nodeId);
  return node?.live ? node.record : undefined;
}

/** The size of the file in the node's listing, or undefined while it does not exist. */
async function listedSize(logs: NodeLogs, fileName: string): Promise<number | undefined> {
  const listing = await logs.listLogs(fileName);
  return listing.files.find((f) => f.name === fileName)?.size;
}

function request(fileName: string, follow: boolean) {
  return { name: fileName, tail: -1, follow, range: false, startOffset: 0, endOffset: 0 };
}

/** The whole driver log; empty while the job has none yet. NotFoundError for an unknown job or an unreadable node. */
export async function readJobLog(deps: JobLogDeps, id: string): Promise<string> {
  if (!deps.jobs.get(id)) throw new NotFoundError(`job with id=${id} not found`);
  const location = deps.jobs.logLocation(id);
  if (!location) return '';
  const node = liveNode(deps.sources, location.nodeId);
  if (!node) throw new NotFoundError(`the driver of job ${id} ran on node ${location.nodeId}, which is not alive: its log cannot be read`);
  const logs = deps.sources.nodeLogs(node);
  if (await listedSize(logs, location.fileName) === undefined) return '';
  const chunks: Buffer[] = [];
  await logs.streamLog(request(location.fileName, false), (chunk) => { chunks.push(chunk.data); }).done;
  return Buffer.concat(chunks).toString('utf8');
}

/** Where a tail is: waiting for the driver's log to exist, streaming it, or done. */
export type TailState = 'waiting' | 'streaming' | 'done';

/** Where the tail writes (the response body). */
export interface TailSink {
  write(data: Buffer): unknown;
}

/**
 * Follows one job's driver log from its start: waits until the driver was placed and its file
 * exists, streams it with the raylet following the file, and ends once the job is terminal and
 * every byte the file held then was sent — or when the job ended without a log, the job record or
 * the driver's node went away, or `cancel()` (the client left). Job status is polled every `pollMs`.
 */
export class JobLogTail {
  private state: TailState = 'waiting';
  private cancelled = false;
  private wake: (() => void) | undefined;
  private stream: { cancel(): void } | undefined;

  constructor(private readonly deps: JobLogDeps, private readonly id: string, private readonly sink: TailSink, private readonly pollMs: number) {}

  get currentState(): TailState {
    return this.state;
  }

  /** Resolves when the tail is over (never rejects: a failed node read ends it). */
  async run(): Promise<void> {
    try {
      const found = await this.waitForLog();
      if (found) {
        this.state = 'streaming';
        await this.follow(found.location, found.node);
      }
    } catch {
      // The node's log service failed (node gone, stream broken): the tail ends here.
    } finally {
      this.state = 'done';
      this.stream?.cancel();
    }
  }

  cancel(): void {
    this.cancelled = true;
    this.stream?.cancel();
    this.wake?.();
  }

  private pause(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.wake = undefined; resolve(); }, this.pollMs);
      this.wake = () => { clearTimeout(timer); this.wake = undefined; resolve(); };
    });
  }

  private isOver(): boolean {
    const job = this.deps.jobs.get(this.id);
    return !job || TERMINAL_JOB_STATUSES.has(job.status);
  }

  private async waitForLog(): Promise<{ location: JobLogLocation; node: NodeRecord } | undefined> {
    while (!this.cancelled) {
      // Read the status first: a job that was terminal before its file was looked for has no more to write.
      const over = this.isOver();
      const location = this.deps.jobs.logLocation(this.id);
      const node = location && liveNode(this.deps.sources, location.nodeId);
      if (location && node && await listedSize(this.deps.sources.nodeLogs(node), location.fileName) !== undefined) return { location, node };
      if (over) return undefined;
      await this.pause();
    }
    return undefined;
  }

  private async follow(location: JobLogLocation, node: NodeRecord): Promise<void> {
    const logs = this.deps.sources.nodeLogs(node);
    let sent = 0;
    let target: number | undefined;
    let streamEnded = false;
    const stream = logs.streamLog(request(location.fileName, true), (chunk) => {
      if (this.cancelled || (target !== undefined && sent >= target)) return;
      this.sink.write(chunk.data);
      sent += chunk.data.length;
      if (target !== undefined && sent >= target) this.wake?.();
    });
    this.stream = stream;
    stream.done.then(() => { streamEnded = true; this.wake?.(); }, () => { streamEnded = true; this.wake?.(); });
    while (!this.cancelled && !streamEnded) {
      if (target !== undefined && sent >= target) return;
      if (target === undefined && (this.isOver() || !liveNode(this.deps.sources, location.nodeId))) {
        // The file does not grow any more: send what it holds now, then end.
        const alive = liveNode(this.deps.sources, location.nodeId);
        target = alive ? (await listedSize(logs, location.fileName)) ?? sent : sent;
        continue;
      }
      await this.pause();
    }
  }
}
