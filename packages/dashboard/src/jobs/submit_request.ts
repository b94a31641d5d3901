/**
 * The body of `POST /api/jobs/` (Ray's JobSubmitRequest), checked field by field: each problem is a
 * 400 whose message starts with the field's name. Unknown fields are refused, so a misspelt one
 * (`entrypoint_num_cpu`) is not silently ignored. Free of fastify: the CLI checks submission ids
 * with the same rule before it sends anything.
 */
import { parseRuntimeEnv } from '@rayts/common';
import type { SubmitJobRequest } from '@rayts/gcs';
import { BadRequestError } from '../errors.js';

export const SUBMIT_FIELDS = [
  'entrypoint', 'submission_id', 'job_id', 'runtime_env', 'metadata',
  'entrypoint_num_cpus', 'entrypoint_num_gpus', 'entrypoint_memory', 'entrypoint_resources',
] as const;

/** Resources with a field of their own: `entrypoint_resources` may not name them. */
const BUILTIN_RESOURCES: Record<string, string> = { CPU: 'entrypoint_num_cpus', GPU: 'entrypoint_num_gpus', memory: 'entrypoint_memory' };

const SUBMISSION_ID = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/**
 * What is wrong with a submission id, or undefined. It names the driver's log file
 * (`job-driver-<id>.log`), so it is limited to what a log name may hold.
 */
export function submissionIdProblem(id: string): string | undefined {
  if (SUBMISSION_ID.test(id)) return undefined;
  return `'${id.slice(0, 200)}' is not a submission id: use 1 to 128 letters, digits, '_', '-' and '.', not starting with '-' or '.'`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 100)) : `${typeof value} ${JSON.stringify(value)?.slice(0, 100)}`;
}

function bad(field: string, problem: string, hint?: string): BadRequestError {
  return new BadRequestError(`${field}: ${problem}`, hint);
}

/** A non-negative finite number (a whole one with `whole`); null or absent is 0. */
function quantity(value: unknown, field: string, whole = false): number {
  if (value === undefined || value === null) return 0;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw bad(field, `must be a number ≥ 0, got ${describe(value)}`);
  if (whole && !Number.isInteger(value)) throw bad(field, `must be a whole number of bytes, got ${value}`);
  return value;
}

function metadata(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) throw bad('metadata', `must be an object of "key": "value" strings, got ${describe(value)}`);
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw bad(`metadata.${key}`, `must be a string, got ${describe(v)}`, 'quote numbers and booleans: "1"');
    out[key] = v;
  }
  return out;
}

function resources(value: unknown): Record<string, number> {
  if (value === undefined || value === null) return {};
  const field = 'entrypoint_resources';
  if (!isRecord(value)) throw bad(field, `must be an object of resource names to numbers, got ${describe(value)}`, 'e.g. {"ssd": 1}');
  const out: Record<string, number> = {};
  for (const [name, v] of Object.entries(value)) {
    if (name === '') throw bad(field, 'a resource name is empty');
    const own = BUILTIN_RESOURCES[name];
    if (own) throw bad(`${field}.${name}`, `use ${own} for ${name}`);
    out[name] = quantity(v, `${field}.${name}`);
  }
  return out;
}

function submissionId(body: Record<string, unknown>): string | undefined {
  const check = (field: string): string | undefined => {
    const v = body[field];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw bad(field, `must be a string, got ${describe(v)}`);
    const problem = submissionIdProblem(v);
    if (problem) throw bad(field, problem);
    return v;
  };
  const id = check('submission_id');
  const legacy = check('job_id');
  if (id !== undefined && legacy !== undefined && id !== legacy) {
    throw bad('job_id', `'${legacy}' differs from submission_id '${id}'`, 'job_id is the deprecated name of submission_id: send only submission_id');
  }
  return id ?? legacy;
}

export function parseSubmitRequest(body: unknown): SubmitJobRequest {
  if (!isRecord(body)) {
    throw new BadRequestError(`the body must be a JSON object, got ${describe(body)}`, 'send {"entrypoint": "node main.mjs"} with content-type application/json');
  }
  const known = new Set<string>(SUBMIT_FIELDS);
  for (const field of Object.keys(body)) {
    if (!known.has(field)) throw bad(field, 'is not a field of a job submission', `the fields are ${SUBMIT_FIELDS.join(', ')}`);
  }
  const entrypoint = body.entrypoint;
  if (typeof entrypoint !== 'string' || entrypoint.trim() === '') {
    throw bad('entrypoint', 'must be a non-empty shell command', 'e.g. "node main.mjs --rounds 3"');
  }
  const request: SubmitJobRequest = {
    entrypoint,
    runtimeEnv: parseRuntimeEnv(body.runtime_env, 'uri'),
    metadata: metadata(body.metadata),
    entrypointNumCpus: quantity(body.entrypoint_num_cpus, 'entrypoint_num_cpus'),
    entrypointNumGpus: quantity(body.entrypoint_num_gpus, 'entrypoint_num_gpus'),
    entrypointMemory: quantity(body.entrypoint_memory, 'entrypoint_memory', true),
    entrypointResources: resources(body.entrypoint_resources),
  };
  const id = submissionId(body);
  if (id !== undefined) request.submissionId = id;
  return request;
}
