/**
 * The optional config file (`--config FILE`, else /etc/rayts/config.yaml when it exists). Precedence
 * is flags > RAYTS_* environment > config file > defaults, so the file only fills what neither a flag
 * nor the environment set. Shape:
 *
 *   start:                 # defaults for `rayts start` flags (kebab-case, as on the command line)
 *     num-cpus: 8
 *     resources: '{"ssd": 1}'
 *   env:                   # tunables by their RAYTS_* name (see docs/operations.md)
 *     RAYTS_HEALTH_CHECK_PERIOD_MS: 3000
 */
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { TUNABLES, UsageError } from '@rayts/common';

export const DEFAULT_CONFIG_FILE = '/etc/rayts/config.yaml';

export interface ConfigFile {
  start: Record<string, string>;
  env: Record<string, string>;
}

const KNOWN_ENV = new Set<string>([...Object.values(TUNABLES).map((t) => t.env), 'RAYTS_TLS_CERT', 'RAYTS_TLS_KEY', 'RAYTS_TLS_CA']);

export function readConfigFile(path: string | undefined): ConfigFile {
  const file = path ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  const empty: ConfigFile = { start: {}, env: {} };
  if (!file) return empty;
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read the config file ${file}: ${(err as Error).message}`, 'it must be YAML with optional `start:` and `env:` maps');
  }
  if (doc === null || doc === undefined) return empty;
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new UsageError(`the config file ${file} must be a YAML map with optional \`start:\` and \`env:\` keys`);
  const out: ConfigFile = { start: {}, env: {} };
  for (const [section, value] of Object.entries(doc)) {
    if (section !== 'start' && section !== 'env') throw new UsageError(`the config file ${file} has an unknown section '${section}'`, 'known sections: start, env');
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`'${section}' in ${file} must be a map`);
    for (const [k, v] of Object.entries(value)) {
      if (section === 'env' && !KNOWN_ENV.has(k)) throw new UsageError(`the config file ${file} sets an unknown variable ${k}`, 'see the tunables table in docs/operations.md');
      out[section][k] = typeof v === 'string' ? v : JSON.stringify(v);
    }
  }
  return out;
}

/** Puts the file's tunables into the environment where the environment does not set them already. */
export function applyConfigEnv(file: ConfigFile, env: NodeJS.ProcessEnv = process.env): void {
  for (const [k, v] of Object.entries(file.env)) if (env[k] === undefined) env[k] = v;
}

/** Fills start options the command line did not give; `known` maps kebab-case keys to option names. */
export function applyStartDefaults<T extends object>(file: ConfigFile, options: T, given: (name: string) => boolean): T {
  const out = { ...options } as Record<string, unknown>;
  for (const [key, value] of Object.entries(file.start)) {
    const name = key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (!given(name)) out[name] = value === 'true' ? true : value === 'false' ? false : value;
  }
  return out as T;
}
