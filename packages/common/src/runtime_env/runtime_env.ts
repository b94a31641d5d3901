/**
 * A job's runtime env (Ray's `runtime_env`): the fields rayts supports, checked field by field so
 * that an error names what is wrong. Two forms: what a user writes (`working_dir` a local directory)
 * and the resolved form the head stores and raylets read (`working_dir` a gcs:// package URI).
 */
import { RuntimeEnvError } from '../errors.js';
import { isPackageUri } from './package_uri.js';

export interface RuntimeEnv {
  /** A local directory (user form) or `gcs://_rayts_pkg_<sha256>.tar.gz` (resolved form). */
  working_dir?: string;
  /** gitignore-style patterns left out of the working_dir package (besides .git and node_modules). */
  excludes?: string[];
  /** Set for the driver and every worker of the job. */
  env_vars?: Record<string, string>;
  /** Run `npm ci` in the working_dir when it has a package-lock.json (default true). */
  npm?: boolean;
}

export const RUNTIME_ENV_FIELDS = ['working_dir', 'excludes', 'env_vars', 'npm'] as const;

/** Ray's runtime env fields that rayts does not run (Python environments): named in the error. */
const PYTHON_ONLY = new Set(['pip', 'conda', 'uv', 'py_modules', 'py_executable', 'container', 'image_uri']);

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export type WorkingDirForm = 'local' | 'uri' | 'any';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks a runtime env. `workingDir` says which form `working_dir` must have: 'local' (a path, for
 * the CLI and init), 'uri' (a package URI, for the head and raylets), or 'any'.
 */
export function parseRuntimeEnv(value: unknown, workingDir: WorkingDirForm): RuntimeEnv {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) throw new RuntimeEnvError('(root)', `must be an object, got ${Array.isArray(value) ? 'an array' : typeof value}`);
  const out: RuntimeEnv = {};
  for (const [field, v] of Object.entries(value)) {
    switch (field) {
      case 'working_dir': {
        if (typeof v !== 'string' || v.trim() === '') throw new RuntimeEnvError(field, 'must be a non-empty string');
        if (workingDir === 'uri' && !isPackageUri(v)) {
          throw new RuntimeEnvError(field, `'${v}' is not a package URI (gcs://_rayts_pkg_<sha256>.tar.gz)`, 'upload the directory first: `rayts job submit --working-dir DIR` does it');
        }
        out.working_dir = v;
        break;
      }
      case 'excludes':
        if (!Array.isArray(v) || v.some((p) => typeof p !== 'string' || p === '')) throw new RuntimeEnvError(field, 'must be a list of non-empty gitignore-style patterns');
        out.excludes = [...(v as string[])];
        break;
      case 'env_vars': {
        if (!isRecord(v)) throw new RuntimeEnvError(field, 'must be an object of NAME: "value" strings');
        const vars: Record<string, string> = {};
        for (const [name, val] of Object.entries(v)) {
          if (!ENV_NAME.test(name)) throw new RuntimeEnvError(`env_vars.${name}`, 'is not a valid environment variable name (letters, digits and _, not starting with a digit)');
          if (typeof val !== 'string') throw new RuntimeEnvError(`env_vars.${name}`, `must be a string, got ${typeof val}`, 'quote numbers and booleans: "1"');
          vars[name] = val;
        }
        out.env_vars = vars;
        break;
      }
      case 'npm':
        if (typeof v !== 'boolean') throw new RuntimeEnvError(field, `must be true or false, got ${JSON.stringify(v)}`);
        out.npm = v;
        break;
      default:
        throw new RuntimeEnvError(field, PYTHON_ONLY.has(field) ? 'is a Python environment field; rayts does not run it' : 'is not a runtime env field',
          `supported fields: ${RUNTIME_ENV_FIELDS.join(', ')}`);
    }
  }
  return out;
}

/** The resolved form, from JSON as the head stores it (empty text = no runtime env). */
export function parseRuntimeEnvJson(json: string): RuntimeEnv {
  if (json.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new RuntimeEnvError('(root)', `is not JSON: ${(err as Error).message}`);
  }
  return parseRuntimeEnv(value, 'uri');
}

/** Empty text for an empty env, so that "no runtime env" has one spelling. */
export function runtimeEnvToJson(env: RuntimeEnv): string {
  return Object.keys(env).length === 0 ? '' : JSON.stringify(env);
}

/** Whether the env needs anything prepared on a node (a package to fetch, variables to set). */
export function needsSetup(env: RuntimeEnv): boolean {
  return env.working_dir !== undefined || (env.env_vars !== undefined && Object.keys(env.env_vars).length > 0);
}
