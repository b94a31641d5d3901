/**
 * `rayts job submit`'s flags checked and combined before any request (each problem a usage error,
 * exit 2, naming the flag): the entrypoint, the runtime env from `--runtime-env` (YAML or JSON; a
 * relative working_dir resolves against the file's folder, as Ray does) or `--runtime-env-json`,
 * `--working-dir` (overrides the env's), metadata and the entrypoint's resources.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { RuntimeEnvError, UsageError, isPackageUri, parseBytes, parseRuntimeEnv, type RuntimeEnv } from '@rayts/common';
import { submissionIdProblem } from '@rayts/dashboard/jobs/submit_request';
import type { SubmitBody } from './job_client.js';

/** The flags as commander gives them. */
export interface SubmitFlags {
  workingDir?: string;
  runtimeEnv?: string;
  runtimeEnvJson?: string;
  submissionId?: string;
  jobId?: string;
  metadataJson?: string;
  entrypointNumCpus?: string;
  entrypointNumGpus?: string;
  entrypointMemory?: string;
  entrypointResources?: string;
  /** False with --no-wait. */
  wait?: boolean;
}

export interface SubmitPlan {
  entrypoint: string;
  submissionId?: string;
  /** The user's runtime env; working_dir is an absolute local directory or a package URI. */
  runtimeEnv: RuntimeEnv;
  /** The local directory to pack and upload (runtimeEnv.working_dir when it is not a URI), and how the user named it. */
  workingDir?: { path: string; shown: string };
  metadata?: Record<string, string>;
  numCpus?: number;
  numGpus?: number;
  memory?: number;
  resources?: Record<string, number>;
  wait: boolean;
  /** Things to tell the user (deprecated flags). */
  warnings: string[];
}

const EXAMPLE = 'e.g. rayts job submit --working-dir . -- node main.mjs --rounds 3';
const SHELL_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;
const OWN_FLAGS: Record<string, string> = { CPU: '--entrypoint-num-cpus', GPU: '--entrypoint-num-gpus', memory: '--entrypoint-memory' };

/**
 * The entrypoint as one shell command: several words are quoted for the shell as needed (Ray joins
 * them with shlex); a single word is taken as the command line itself, so `-- "node main.mjs"` works.
 */
export function shellJoin(words: string[]): string {
  if (words.length === 1) return words[0]!;
  return words.map((w) => (SHELL_SAFE.test(w) ? w : `'${w.replace(/'/g, `'"'"'`)}'`)).join(' ');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function jsonFlag(flag: string, text: string, expected: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${flag} is not valid JSON: ${(err as Error).message}`, `it must be ${expected}`);
  }
  if (!isRecord(value)) throw new UsageError(`${flag} must be ${expected}, got ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`);
  return value;
}

function quantity(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`${flag} must be a number ≥ 0, got '${text}'`);
  return n;
}

function memory(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = parseBytes(text);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`--entrypoint-memory must be a number of bytes, got '${text}'`, 'e.g. 2GiB, 500MB or 2000000000');
  return n;
}

function resources(text: string | undefined): Record<string, number> | undefined {
  if (text === undefined) return undefined;
  const expected = 'a JSON object of resource names to numbers, e.g. \'{"ssd": 1}\'';
  const value = jsonFlag('--entrypoint-resources', text, expected);
  const out: Record<string, number> = {};
  for (const [name, v] of Object.entries(value)) {
    if (OWN_FLAGS[name]) throw new UsageError(`--entrypoint-resources names ${name}: use ${OWN_FLAGS[name]} for it`);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new UsageError(`--entrypoint-resources: '${name}' must be a number ≥ 0, got ${JSON.stringify(v)}`, `it must be ${expected}`);
    out[name] = v;
  }
  return out;
}

function metadata(text: string | undefined): Record<string, string> | undefined {
  if (text === undefined) return undefined;
  const expected = 'a JSON object of strings, e.g. \'{"owner": "ops"}\'';
  const value = jsonFlag('--metadata-json', text, expected);
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new UsageError(`--metadata-json: '${key}' must be a string, got ${JSON.stringify(v)}`, `it must be ${expected}`);
  }
  return value as Record<string, string>;
}

/** A runtime env problem, named by where it came from. */
function envError(source: string, err: unknown): unknown {
  return err instanceof RuntimeEnvError ? new UsageError(`${source}: ${err.message}`, err.hint) : err;
}

/** The runtime env of --runtime-env FILE or --runtime-env-json, and the folder its relative working_dir is relative to. */
function givenRuntimeEnv(flags: SubmitFlags, cwd: string): { env: RuntimeEnv; baseDir: string; source: string } {
  if (flags.runtimeEnv !== undefined && flags.runtimeEnvJson !== undefined) {
    throw new UsageError('give either --runtime-env or --runtime-env-json, not both');
  }
  if (flags.runtimeEnvJson !== undefined) {
    const value = jsonFlag('--runtime-env-json', flags.runtimeEnvJson, 'a JSON object, e.g. \'{"env_vars": {"MODE": "fast"}}\'');
    try {
      return { env: parseRuntimeEnv(value, 'any'), baseDir: cwd, source: '--runtime-env-json' };
    } catch (err) {
      throw envError('--runtime-env-json', err);
    }
  }
  if (flags.runtimeEnv !== undefined) {
    const file = resolve(cwd, flags.runtimeEnv);
    const source = `--runtime-env ${flags.runtimeEnv}`;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new UsageError(`${source}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    let value: unknown;
    try {
      value = parseYaml(text);
    } catch (err) {
      throw new UsageError(`${source}: not YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
    }
    try {
      return { env: parseRuntimeEnv(value ?? {}, 'any'), baseDir: dirname(file), source };
    } catch (err) {
      throw envError(source, err);
    }
  }
  return { env: {}, baseDir: cwd, source: '' };
}

function checkDirectory(path: string, source: string): void {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) throw new UsageError(`${source}: '${path}' does not exist`, 'give the directory holding the job\'s files');
  if (!st.isDirectory()) throw new UsageError(`${source}: '${path}' is not a directory`, 'give the directory holding the job\'s files, not a file in it');
}

export function planSubmission(entrypoint: string[], flags: SubmitFlags, cwd: string): SubmitPlan {
  if (entrypoint.length === 0 || entrypoint.every((w) => w.trim() === '')) {
    throw new UsageError('no entrypoint: give the command that runs the job after --', EXAMPLE);
  }
  const warnings: string[] = [];
  if (flags.jobId !== undefined) warnings.push('--job-id is deprecated: use --submission-id');
  if (flags.jobId !== undefined && flags.submissionId !== undefined && flags.jobId !== flags.submissionId) {
    throw new UsageError('--job-id and --submission-id differ', '--job-id is the deprecated name of --submission-id: give only --submission-id');
  }
  const submissionId = flags.submissionId ?? flags.jobId;
  if (submissionId !== undefined) {
    const problem = submissionIdProblem(submissionId);
    if (problem) throw new UsageError(`--submission-id: ${problem}`);
  }
  const given = givenRuntimeEnv(flags, cwd);
  const runtimeEnv: RuntimeEnv = { ...given.env };
  let workingDir: SubmitPlan['workingDir'];
  const dirFlag = flags.workingDir;
  if (dirFlag !== undefined && dirFlag.trim() === '') throw new UsageError('--working-dir is empty', 'give a directory, e.g. --working-dir .');
  const [rawDir, base, source] = dirFlag !== undefined ? [dirFlag, cwd, '--working-dir'] : [runtimeEnv.working_dir, given.baseDir, `${given.source} working_dir`];
  if (rawDir !== undefined && isPackageUri(rawDir)) {
    runtimeEnv.working_dir = rawDir;
  } else if (rawDir !== undefined) {
    const path = isAbsolute(rawDir) ? rawDir : resolve(base, rawDir);
    checkDirectory(path, source);
    runtimeEnv.working_dir = path;
    workingDir = { path, shown: rawDir };
  }
  const plan: SubmitPlan = {
    entrypoint: shellJoin(entrypoint), runtimeEnv, wait: flags.wait !== false, warnings,
    metadata: metadata(flags.metadataJson),
    numCpus: quantity('--entrypoint-num-cpus', flags.entrypointNumCpus),
    numGpus: quantity('--entrypoint-num-gpus', flags.entrypointNumGpus),
    memory: memory(flags.entrypointMemory),
    resources: resources(flags.entrypointResources),
  };
  if (submissionId !== undefined) plan.submissionId = submissionId;
  if (workingDir) plan.workingDir = workingDir;
  return plan;
}

/** The request body once the working_dir (if any) is on the head as `workingDirUri`. */
export function submitBody(plan: SubmitPlan, workingDirUri?: string): SubmitBody {
  const runtimeEnv: RuntimeEnv = { ...plan.runtimeEnv };
  if (plan.workingDir) {
    if (!workingDirUri) throw new Error('the working_dir must be uploaded before the job is submitted');
    runtimeEnv.working_dir = workingDirUri;
  }
  const body: SubmitBody = { entrypoint: plan.entrypoint };
  if (plan.submissionId !== undefined) body.submission_id = plan.submissionId;
  if (Object.keys(runtimeEnv).length > 0) body.runtime_env = runtimeEnv;
  if (plan.metadata) body.metadata = plan.metadata;
  if (plan.numCpus !== undefined) body.entrypoint_num_cpus = plan.numCpus;
  if (plan.numGpus !== undefined) body.entrypoint_num_gpus = plan.numGpus;
  if (plan.memory !== undefined) body.entrypoint_memory = plan.memory;
  if (plan.resources) body.entrypoint_resources = plan.resources;
  return body;
}
