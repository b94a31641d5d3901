/**
 * `rayts logs actor|task|worker|job`: the output of one actor, task attempt, worker process or job,
 * found through the state API (which node, which file, which bytes) and streamed by the head from
 * that node's raylet.
 */
import { RaytsError, UsageError, workerLogFiles } from '@rayts/common';
import type { StateApi } from './state.js';

export interface LogStreamApi extends StateApi {
  /** GETs a streamed response, handing over each chunk as it comes. */
  stream(path: string, query: Record<string, string | undefined>, onData: (chunk: Buffer) => void): { done: Promise<void>; cancel(): void };
}

export interface EntityLogOptions {
  id?: string;
  pid?: string;
  nodeIp?: string;
  nodeId?: string;
  attempt?: string;
  err?: boolean;
  follow?: boolean;
  tail: string;
}

type Row = Record<string, unknown>;

/** Where to read: a node's file, all of it up to a tail, or a byte range. */
interface LogTarget {
  nodeId: string;
  filename: string;
  range?: { start: number; end?: number };
}

function tailOf(options: EntityLogOptions): number {
  const tail = Number(options.tail);
  if (!Number.isInteger(tail) || tail < -1) throw new UsageError(`--tail must be a number of lines, or -1 for the whole file; got '${options.tail}'`);
  return tail;
}

function required(value: string | undefined, flag: string, what: string): string {
  if (!value) throw new UsageError(`${flag} is required`, `find the ${what} with \`rayts list ${what}s\``);
  return value;
}

async function getOne(api: StateApi, resource: string, id: string): Promise<Row[]> {
  const reply = await api.get<{ result: Row[] }>(`/api/v0/${resource}/${encodeURIComponent(id)}`);
  return reply.result;
}

function workerFile(workerId: string, pid: unknown, err: boolean): string {
  const files = workerLogFiles(workerId, Number(pid));
  return err ? files.stderr : files.stdout;
}

async function actorTarget(api: StateApi, options: EntityLogOptions): Promise<LogTarget> {
  const id = required(options.id, '--id', 'actor');
  const [actor] = await getOne(api, 'actors', id);
  if (!actor!.worker_id || !actor!.node_id) {
    throw new RaytsError(`actor ${id} has no worker (state ${String(actor!.state)}): it has not started${actor!.state === 'DEAD' ? ' or it died before it ran' : ' yet'}`);
  }
  return { nodeId: actor!.node_id as string, filename: workerFile(actor!.worker_id as string, actor!.pid, !!options.err) };
}

async function taskTarget(api: StateApi, options: EntityLogOptions): Promise<LogTarget> {
  const id = required(options.id, '--id', 'task');
  const attempts = await getOne(api, 'tasks', id);
  let attempt: Row | undefined;
  if (options.attempt !== undefined) {
    attempt = attempts.find((a) => String(a.attempt_number) === options.attempt);
    if (!attempt) throw new RaytsError(`task ${id} has no attempt ${options.attempt}`, `its attempts: ${attempts.map((a) => String(a.attempt_number)).join(', ')}`);
  } else {
    attempt = attempts.reduce((a, b) => ((b.attempt_number as number) > (a.attempt_number as number) ? b : a));
  }
  const info = attempt.task_log_info as { stdout_file: string; stderr_file: string; stdout_start: number; stdout_end: number; stderr_start: number; stderr_end: number } | null;
  if (!info || !attempt.node_id) throw new RaytsError(`task ${id} (attempt ${String(attempt.attempt_number)}, ${String(attempt.state)}) has no output to show: it has not run on a worker`);
  const finished = attempt.state === 'FINISHED' || attempt.state === 'FAILED';
  const [file, start, end] = options.err ? [info.stderr_file, info.stderr_start, info.stderr_end] : [info.stdout_file, info.stdout_start, info.stdout_end];
  return { nodeId: attempt.node_id as string, filename: file, range: { start, end: finished ? end : undefined } };
}

async function workerTarget(api: StateApi, options: EntityLogOptions): Promise<LogTarget> {
  const pid = required(options.pid, '--pid', 'worker');
  if (!/^\d+$/.test(pid)) throw new UsageError(`--pid must be a process id, got '${pid}'`);
  const filter = [`pid=${pid}`, 'worker_type=WORKER'];
  if (options.nodeIp) filter.push(`ip=${options.nodeIp}`);
  if (options.nodeId) filter.push(`node_id=${options.nodeId}`);
  const reply = await api.get<{ result: Row[] }>('/api/v0/workers', { filter, detail: 'true', limit: '10000' });
  const [first, second] = reply.result;
  if (!first) throw new RaytsError(`no worker with pid ${pid}${options.nodeIp ? ` on ${options.nodeIp}` : ''} found`, 'list them with `rayts list workers`');
  if (second) throw new UsageError(`several nodes have a worker with pid ${pid}`, 'name the node with --node-ip or --node-id');
  return { nodeId: first.node_id as string, filename: workerFile(first.worker_id as string, pid, !!options.err) };
}

async function jobTarget(api: StateApi, options: EntityLogOptions): Promise<LogTarget> {
  const id = required(options.id, '--id', 'job');
  const [job] = await getOne(api, 'jobs', id);
  const driver = job!.driver_info as { node_ip_address: string | null; pid: string | null } | null;
  if (job!.type !== 'SUBMISSION') {
    throw new RaytsError(`job ${id} is a driver started outside the job API (pid ${driver?.pid ?? '?'} on ${driver?.node_ip_address ?? '?'}): its output went to that process's own terminal`,
      'the output of jobs submitted with `rayts job submit` is kept and shown here');
  }
  if (!job!.driver_node_id) throw new RaytsError(`job ${id} (${String(job!.status)}) has no driver output yet: its driver has not been placed on a node`);
  // A submitted job's driver writes to job-driver-<submission id>.log on its node (as Ray's does).
  return { nodeId: job!.driver_node_id as string, filename: `job-driver-${String(job!.submission_id)}.log` };
}

const TARGETS = { actor: actorTarget, task: taskTarget, worker: workerTarget, job: jobTarget };

export async function entityLogsCommand(kind: keyof typeof TARGETS, options: EntityLogOptions, api: LogStreamApi): Promise<number> {
  const tail = tailOf(options);
  const target = await TARGETS[kind](api, options);
  const query: Record<string, string | undefined> = { node_id: target.nodeId, filename: target.filename };
  if (target.range) {
    query.start = String(target.range.start);
    if (target.range.end !== undefined) query.end = String(target.range.end);
    else if (options.follow) query.follow = 'true';
  } else {
    query.lines = String(tail);
    if (options.follow) query.follow = 'true';
  }
  const stream = api.stream('/api/v0/logs/file', query, (chunk) => process.stdout.write(chunk));
  const stop = () => stream.cancel();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await stream.done;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  return 0;
}
