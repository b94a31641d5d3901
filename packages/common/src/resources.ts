/**
 * Resource maps and the parsing of the node flags that describe them (--resources JSON,
 * --labels k=v,…). Bad input is refused with an example of what is valid.
 */
import { UsageError } from './errors.js';

export type ResourceMap = Record<string, number>;

/** Names the raylet sets itself; --resources may not override them. */
export const PREDEFINED_RESOURCES = ['CPU', 'GPU', 'memory', 'object_store_memory'] as const;

/** What a resource name may be: a letter or _, then letters, digits, _ . : - / (node:10.0.0.1, CPU_group_0_<pg>). */
export const RESOURCE_NAME = /^[A-Za-z_][A-Za-z0-9_.:\-/]*$/;

export function parseResourcesJson(text: string): ResourceMap {
  const example = `--resources='{"ssd": 1, "accelerator": 2}'`;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--resources is not valid JSON (${(err as Error).message}): ${text}`, `give a JSON object of name to amount, for example ${example}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`--resources must be a JSON object, got ${text}`, `for example ${example}`);
  }
  const out: ResourceMap = {};
  for (const [name, amount] of Object.entries(value)) {
    if (!RESOURCE_NAME.test(name)) throw new UsageError(`--resources: '${name}' is not a valid resource name`, 'use letters, digits, _ . : - /');
    if ((PREDEFINED_RESOURCES as readonly string[]).includes(name)) {
      throw new UsageError(`--resources cannot set ${name}`, `use --${name === 'object_store_memory' ? 'object-store-memory' : name === 'CPU' ? 'num-cpus' : name === 'GPU' ? 'num-gpus' : 'memory'} instead`);
    }
    if (typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0) {
      throw new UsageError(`--resources: ${name} must be a non-negative number, got ${JSON.stringify(amount)}`, `for example ${example}`);
    }
    out[name] = amount;
  }
  return out;
}

export function parseLabels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!text.trim()) return out;
  for (const pair of text.split(',')) {
    const eq = pair.indexOf('=');
    const key = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    if (eq <= 0 || !/^[A-Za-z0-9][A-Za-z0-9_.\-/]*$/.test(key) || !/^[A-Za-z0-9_.\-]*$/.test(value)) {
      throw new UsageError(`--labels: '${pair}' is not a KEY=VALUE pair`, `for example --labels=zone=eu-1,disk=ssd`);
    }
    out[key] = value;
  }
  return out;
}

/** Sum of several maps. */
export function addResources(into: ResourceMap, from: Record<string, number | string>): ResourceMap {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + Number(v);
  return into;
}

/** A resource map off the wire (proto maps hold numbers or numeric strings) as numbers. */
export function toResourceMap(map: Record<string, number | string>): ResourceMap {
  return addResources({}, map);
}

/** Names that `rayts status` hides (per-node markers, placement-group internals). */
export function isHiddenResource(name: string): boolean {
  return name.startsWith('node:') || /_group_/.test(name) || name.startsWith('accelerator_type:');
}

export function isMemoryResource(name: string): boolean {
  return name === 'memory' || name === 'object_store_memory';
}
