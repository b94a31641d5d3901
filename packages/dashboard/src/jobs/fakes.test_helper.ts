/**
 * In-memory JobApi, PackageApi and node log services for the route tests: just enough behaviour to
 * check what the routes do with them (validation, status codes, shapes, streaming).
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { AlreadyExistsError, NotFoundError, PackageRejectedError, parsePackageUri, RuntimeEnvError } from '@rayts/common';
import type { JobApi, JobDetails, JobLogLocation, NodeRecord, PackageApi, PackageInfo, SubmitJobRequest } from '@rayts/gcs';
import type { NodeLogs, StateSources } from '../state/sources.js';

export class MemoryJobs implements JobApi {
  readonly jobs = new Map<string, JobDetails>();
  readonly logs = new Map<string, JobLogLocation>();
  readonly submitted: SubmitJobRequest[] = [];
  readonly stopped: string[] = [];
  private counter = 0;

  constructor(private readonly packages?: PackageApi) {}

  submit(request: SubmitJobRequest): JobDetails {
    const id = request.submissionId ?? `raysubmit_${String(++this.counter).padStart(16, 'A')}`;
    if (this.jobs.has(id)) throw new AlreadyExistsError(`job with submission id ${id} already exists`);
    const dir = request.runtimeEnv.working_dir;
    if (dir && this.packages && !this.packages.info(dir).exists) throw new RuntimeEnvError('working_dir', `package ${dir} is not on the head`);
    this.submitted.push(request);
    const job: JobDetails = {
      type: 'SUBMISSION', jobId: null, submissionId: id, status: 'PENDING', entrypoint: request.entrypoint, message: 'Job is pending', errorType: null,
      startTimeMs: 1_700_000_000_000, endTimeMs: null, metadata: request.metadata, runtimeEnv: request.runtimeEnv,
      driverNodeId: null, driverNodeIp: null, driverPid: null, driverExitCode: null,
      entrypointNumCpus: request.entrypointNumCpus, entrypointNumGpus: request.entrypointNumGpus,
      entrypointMemory: request.entrypointMemory, entrypointResources: request.entrypointResources,
    };
    this.jobs.set(id, job);
    return job;
  }

  /** Changes a job as the head would. */
  update(id: string, change: Partial<JobDetails>): void {
    this.jobs.set(id, { ...this.jobs.get(id)!, ...change });
  }

  addDriver(id: string): JobDetails {
    const job: JobDetails = {
      ...this.submit({ entrypoint: 'node own.mjs', submissionId: `driver-${id}`, runtimeEnv: {}, metadata: {}, entrypointNumCpus: 0, entrypointNumGpus: 0, entrypointMemory: 0, entrypointResources: {} }),
      type: 'DRIVER', submissionId: null, jobId: id, status: 'RUNNING',
    };
    this.jobs.delete(`driver-${id}`);
    this.jobs.set(id, job);
    return job;
  }

  get(id: string): JobDetails | undefined {
    return this.jobs.get(id);
  }

  list(): JobDetails[] {
    return [...this.jobs.values()];
  }

  stop(id: string): boolean {
    const job = this.jobs.get(id);
    if (!job) throw new NotFoundError(`job ${id} not found`);
    this.stopped.push(id);
    return !['STOPPED', 'SUCCEEDED', 'FAILED'].includes(job.status);
  }

  delete(id: string): void {
    if (!this.jobs.delete(id)) throw new NotFoundError(`job ${id} not found`);
  }

  logLocation(id: string): JobLogLocation | undefined {
    return this.logs.get(id);
  }
}

export class MemoryPackages implements PackageApi {
  readonly stored = new Map<string, Buffer>();
  /** Bytes the last put read from its body. */
  lastRead = 0;

  constructor(readonly maxBytes: number) {}

  info(uri: string): PackageInfo {
    const data = this.stored.get(uri);
    return { exists: !!data, size: data?.length ?? 0 };
  }

  async put(uri: string, body: Readable, _declaredBytes?: number): Promise<{ size: number; existed: boolean }> {
    const { sha256 } = parsePackageUri(uri);
    const chunks: Buffer[] = [];
    this.lastRead = 0;
    for await (const chunk of body) {
      chunks.push(chunk as Buffer);
      this.lastRead += (chunk as Buffer).length;
    }
    const data = Buffer.concat(chunks);
    if (createHash('sha256').update(data).digest('hex') !== sha256) throw new PackageRejectedError(`the upload's sha256 does not match ${uri}`);
    const existed = this.stored.has(uri);
    this.stored.set(uri, data);
    return { size: data.length, existed };
  }
}

/** A node whose log service serves files from memory; appending to a file is what a running driver does. */
export class MemoryNodeLogs implements NodeLogs {
  readonly files = new Map<string, Buffer>();
  failNext = false;
  openStreams = 0;

  append(name: string, text: string): void {
    this.files.set(name, Buffer.concat([this.files.get(name) ?? Buffer.alloc(0), Buffer.from(text)]));
  }

  async listLogs(glob: string) {
    const files = [...this.files].filter(([name]) => glob === '' || name === glob)
      .map(([name, data]) => ({ name, size: data.length, modifiedMs: 0, category: 'driver' }));
    return { nodeId: 'n', nodeIp: '127.0.0.1', files };
  }

  streamLog(request: { name?: string; follow?: boolean }, onChunk: (chunk: { data: Buffer; truncated: boolean }) => void) {
    let cancelled = false;
    let sent = 0;
    this.openStreams += 1;
    const done = (async () => {
      try {
        for (;;) {
          if (this.failNext) throw new Error('the raylet went away');
          const data = this.files.get(request.name ?? '') ?? Buffer.alloc(0);
          if (!cancelled && data.length > sent) {
            onChunk({ data: data.subarray(sent), truncated: false });
            sent = data.length;
          }
          if (!request.follow || cancelled) return;
          await new Promise((r) => setTimeout(r, 5));
        }
      } finally {
        this.openStreams -= 1;
      }
    })();
    return { done, cancel: () => { cancelled = true; } };
  }
}

/** Nodes by id, each alive or not, with their log services. */
export function memorySources(nodes: Record<string, { live: boolean; logs: MemoryNodeLogs }>): Pick<StateSources, 'nodes' | 'nodeLogs'> {
  const record = (nodeId: string) => ({ nodeId, nodeIp: '127.0.0.1', state: nodes[nodeId]!.live ? 'ALIVE' : 'DEAD' }) as unknown as NodeRecord;
  return {
    nodes: () => Object.entries(nodes).map(([id, n]) => (n.live ? { record: record(id), live: {} as never } : { record: record(id) })),
    nodeLogs: (node) => nodes[node.nodeId]!.logs,
  };
}
