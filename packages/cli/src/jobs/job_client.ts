/**
 * The head's jobs API (`/api/jobs/`, `/api/packages/`, `/api/version`) as `rayts job` uses it, over
 * the CLI's ApiClient. The server's refusals become the CLI's exits as in the state commands: a
 * bad field (400) is a usage error (exit 2), an unknown job (404) one "not found" line (exit 1).
 */
import type { RuntimeEnv } from '@rayts/common';
import type {
  DeleteJobReply, JobDetailsJson, JobLogsReply, PackageInfoReply, PutPackageReply, StopJobReply, SubmitJobReply,
} from '@rayts/dashboard/jobs/job_json';
import type { VersionReply } from '@rayts/dashboard/core_routes';
import type { ApiClient } from '../api_client.js';
import { ApiError } from '../errors.js';
import { mapApiError } from '../state_api.js';

/** The body of `POST /api/jobs/` (Ray's JobSubmitRequest; working_dir is a package URI by now). */
export interface SubmitBody {
  entrypoint: string;
  submission_id?: string;
  runtime_env?: RuntimeEnv;
  metadata?: Record<string, string>;
  entrypoint_num_cpus?: number;
  entrypoint_num_gpus?: number;
  entrypoint_memory?: number;
  entrypoint_resources?: Record<string, number>;
}

/** What `rayts job` needs of the HTTP client (ApiClient has it; tests give a fake). */
export type JobsHttp = Pick<ApiClient, 'baseUrl' | 'get' | 'post' | 'delete' | 'stream' | 'putFile'>;

export interface LogStream {
  done: Promise<void>;
  cancel(): void;
}

const jobPath = (id: string, rest = '') => `/api/jobs/${encodeURIComponent(id)}${rest}`;
const packagePath = (uri: string) => `/api/packages/gcs/${encodeURIComponent(uri.replace(/^gcs:\/\//, ''))}`;

async function mapped<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    throw mapApiError(err);
  }
}

export class JobsClient {
  constructor(private readonly http: JobsHttp) {}

  get address(): string {
    return this.http.baseUrl;
  }

  version(): Promise<VersionReply> {
    return mapped(this.http.get<VersionReply>('/api/version'));
  }

  submit(body: SubmitBody): Promise<SubmitJobReply> {
    return mapped(this.http.post<SubmitJobReply>('/api/jobs/', body));
  }

  get(id: string): Promise<JobDetailsJson> {
    return mapped(this.http.get<JobDetailsJson>(jobPath(id)));
  }

  list(): Promise<JobDetailsJson[]> {
    return mapped(this.http.get<JobDetailsJson[]>('/api/jobs/'));
  }

  stop(id: string): Promise<StopJobReply> {
    return mapped(this.http.post<StopJobReply>(jobPath(id, '/stop')));
  }

  delete(id: string): Promise<DeleteJobReply> {
    return mapped(this.http.delete<DeleteJobReply>(jobPath(id)));
  }

  async logs(id: string): Promise<string> {
    return (await mapped(this.http.get<JobLogsReply>(jobPath(id, '/logs')))).logs;
  }

  /** The driver's log from its start, each chunk as it comes, until the job ended and its log was sent. */
  tail(id: string, onData: (chunk: Buffer) => void): LogStream {
    const stream = this.http.stream(jobPath(id, '/logs/tail'), {}, onData);
    return { done: mapped(stream.done), cancel: stream.cancel };
  }

  /** The package's size on the head, or undefined when the head does not have it. */
  async packageSize(uri: string): Promise<number | undefined> {
    try {
      return (await this.http.get<PackageInfoReply>(packagePath(uri))).size;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return undefined;
      throw mapApiError(err);
    }
  }

  uploadPackage(uri: string, file: string, size: number, onProgress?: (sent: number, total: number) => void): Promise<PutPackageReply> {
    return mapped(this.http.putFile<PutPackageReply>(packagePath(uri), file, size, onProgress));
  }
}
