/**
 * For the `rayts job` tests: a JobOutput that keeps what is printed (no colour), JobDetails JSON
 * with defaults, and a fake head behind the JobsHttp interface (no network) whose jobs move through
 * scripted statuses.
 */
import { existsSync, statSync } from 'node:fs';
import { Chalk, type ChalkInstance } from 'chalk';
import type { JobDetailsJson } from '@rayts/dashboard/jobs/job_json';
import { ApiError } from '../errors.js';
import type { JobsHttp, SubmitBody } from './job_client.js';
import type { JobOutput, Line, Stream } from './job_output.js';

export class MemoryOutput implements JobOutput {
  readonly out: string[] = [];
  readonly err: string[] = [];
  readonly progressed: string[] = [];
  private readonly plain = new Chalk({ level: 0 });

  color(): ChalkInstance {
    return this.plain;
  }

  lines(lines: Line[]): void {
    for (const l of lines) this.line(l.stream, l.text);
  }

  line(stream: Stream, text: string): void {
    (stream === 'out' ? this.out : this.err).push(`${text}\n`);
  }

  raw(chunk: Buffer | string): void {
    this.out.push(chunk.toString());
  }

  progress(text: string): void {
    this.progressed.push(text);
  }

  progressDone(): void {}

  stdout(): string {
    return this.out.join('');
  }

  stderr(): string {
    return this.err.join('');
  }
}

export function jobJson(change: Partial<JobDetailsJson> = {}): JobDetailsJson {
  return {
    type: 'SUBMISSION', job_id: null, submission_id: 'raysubmit_abc', driver_info: null, status: 'RUNNING', entrypoint: 'node main.mjs',
    message: '', error_type: null, start_time: new Date(2026, 0, 2, 3, 4, 5).getTime(), end_time: null, metadata: {}, runtime_env: {},
    driver_agent_http_address: null, driver_node_id: null, driver_exit_code: null, entrypoint_num_cpus: 0, entrypoint_num_gpus: 0,
    entrypoint_memory: 0, entrypoint_resources: {}, ...change,
  };
}

/** A fake head: jobs whose statuses follow a script (one step per GET, the last one stays), packages by URI. */
export class FakeHead implements JobsHttp {
  readonly baseUrl = 'http://127.0.0.1:8265';
  readonly calls: string[] = [];
  readonly submitted: SubmitBody[] = [];
  readonly uploads: { uri: string; size: number; fileExisted: boolean }[] = [];
  readonly packages = new Map<string, number>();
  readonly jobs = new Map<string, JobDetailsJson>();
  /** Statuses (and messages) a job goes through, one per GET of it. */
  readonly scripts = new Map<string, Partial<JobDetailsJson>[]>();
  /** What the tail of a job sends, in chunks. */
  readonly logs = new Map<string, string[]>();
  packageMaxBytes = 1 << 20;
  tailCancelled = false;

  private notFound(method: string, path: string): ApiError {
    return new ApiError(404, `no such thing: ${path}`, method, path);
  }

  private job(id: string): JobDetailsJson {
    const job = this.jobs.get(id);
    if (!job) throw this.notFound('GET', `/api/jobs/${id}`);
    const script = this.scripts.get(id);
    if (script && script.length > 0) {
      const next = { ...job, ...(script.length > 1 ? script.shift()! : script[0]!) };
      this.jobs.set(id, next);
      return next;
    }
    return job;
  }

  async get<T>(path: string): Promise<T> {
    this.calls.push(`GET ${path}`);
    if (path === '/api/version') return { version: '0.1.0', package_max_bytes: this.packageMaxBytes } as T;
    if (path === '/api/jobs/') return [...this.jobs.values()] as T;
    const pkg = /^\/api\/packages\/gcs\/(.+)$/.exec(path);
    if (pkg) {
      const size = this.packages.get(`gcs://${pkg[1]}`);
      if (size === undefined) throw this.notFound('GET', path);
      return { exists: true, size } as T;
    }
    const logs = /^\/api\/jobs\/([^/]+)\/logs$/.exec(path);
    if (logs) {
      if (!this.jobs.has(decodeURIComponent(logs[1]!))) throw this.notFound('GET', path);
      return { logs: (this.logs.get(decodeURIComponent(logs[1]!)) ?? []).join('') } as T;
    }
    const one = /^\/api\/jobs\/([^/]+)$/.exec(path);
    if (one) return this.job(decodeURIComponent(one[1]!)) as T;
    throw this.notFound('GET', path);
  }

  async post<T>(path: string, body?: unknown): Promise<T> {
    this.calls.push(`POST ${path}`);
    if (path === '/api/jobs/') {
      const request = body as SubmitBody;
      const uri = request.runtime_env?.working_dir;
      if (uri && !this.packages.has(uri)) throw new ApiError(400, `runtime_env.working_dir: package ${uri} is not on the head`, 'POST', path);
      const id = request.submission_id ?? 'raysubmit_0123456789ABCDEF';
      this.submitted.push(request);
      this.jobs.set(id, jobJson({ submission_id: id, status: 'PENDING', entrypoint: request.entrypoint }));
      return { job_id: id, submission_id: id } as T;
    }
    const stop = /^\/api\/jobs\/([^/]+)\/stop$/.exec(path);
    if (stop) {
      if (!this.jobs.has(decodeURIComponent(stop[1]!))) throw this.notFound('POST', path);
      return { stopped: true } as T;
    }
    throw this.notFound('POST', path);
  }

  async delete<T>(path: string): Promise<T> {
    this.calls.push(`DELETE ${path}`);
    const id = decodeURIComponent(path.replace('/api/jobs/', ''));
    if (!this.jobs.delete(id)) throw this.notFound('DELETE', path);
    return { deleted: true } as T;
  }

  stream(path: string, _query: Record<string, unknown>, onData: (chunk: Buffer) => void): { done: Promise<void>; cancel(): void } {
    this.calls.push(`STREAM ${path}`);
    const id = decodeURIComponent(path.replace(/^\/api\/jobs\//, '').replace(/\/logs\/tail$/, ''));
    const done = (async () => {
      if (!this.jobs.has(id)) throw this.notFound('GET', path);
      for (const chunk of this.logs.get(id) ?? []) {
        await new Promise((r) => setImmediate(r));
        if (this.tailCancelled) return;
        onData(Buffer.from(chunk));
      }
    })();
    return { done, cancel: () => { this.tailCancelled = true; } };
  }

  async putFile<T>(path: string, file: string, size: number, onProgress?: (sent: number, total: number) => void): Promise<T> {
    this.calls.push(`PUT ${path}`);
    const uri = `gcs://${path.replace('/api/packages/gcs/', '')}`;
    const fileExisted = existsSync(file) && statSync(file).size === size;
    this.uploads.push({ uri, size, fileExisted });
    onProgress?.(size, size);
    this.packages.set(uri, size);
    return { uri, size, existed: false } as T;
  }
}
