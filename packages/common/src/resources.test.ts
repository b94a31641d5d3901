import { describe, it, expect } from 'vitest';
import { UsageError } from './errors.js';
import { parseLabels, parseResourcesJson } from './resources.js';

function usageErrorOf(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error('expected a UsageError, nothing was thrown');
}

/** True when some JSON object literal inside `text` parses. */
function containsValidJsonObject(text: string): boolean {
  for (const match of text.matchAll(/\{[^{}]*\}/g)) {
    try {
      const value: unknown = JSON.parse(match[0]);
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) return true;
    } catch {
      // not this one
    }
  }
  return false;
}

describe('parseResourcesJson', () => {
  it('accepts a JSON object of custom resources', () => {
    expect(parseResourcesJson('{"ssd":1}')).toEqual({ ssd: 1 });
    expect(parseResourcesJson('{"accelerator": 2, "fpga": 0.5}')).toEqual({ accelerator: 2, fpga: 0.5 });
    expect(parseResourcesJson('{}')).toEqual({});
  });

  it('refuses invalid JSON with a valid example', () => {
    const err = usageErrorOf(() => parseResourcesJson('{bad'));
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain('{bad');
    expect(containsValidJsonObject(`${err.message}\n${err.hint ?? ''}`)).toBe(true);
  });

  it('refuses arrays and scalars', () => {
    expect(containsValidJsonObject(usageErrorOf(() => parseResourcesJson('[1,2]')).hint ?? '')).toBe(true);
    usageErrorOf(() => parseResourcesJson('3'));
    usageErrorOf(() => parseResourcesJson('null'));
  });

  it('refuses negative, non-numeric and non-finite amounts', () => {
    expect(usageErrorOf(() => parseResourcesJson('{"ssd": -1}')).message).toContain('ssd');
    usageErrorOf(() => parseResourcesJson('{"ssd": "1"}'));
    usageErrorOf(() => parseResourcesJson('{"ssd": null}'));
    usageErrorOf(() => parseResourcesJson('{"ssd": 1e999}'));
  });

  it('refuses predefined resources and points at the dedicated flag', () => {
    const cpu = usageErrorOf(() => parseResourcesJson('{"CPU": 4}'));
    expect(`${cpu.message} ${cpu.hint ?? ''}`).toContain('--num-cpus');
    const gpu = usageErrorOf(() => parseResourcesJson('{"GPU": 1}'));
    expect(gpu.hint).toContain('--num-gpus');
    const osm = usageErrorOf(() => parseResourcesJson('{"object_store_memory": 1}'));
    expect(osm.hint).toContain('--object-store-memory');
    const mem = usageErrorOf(() => parseResourcesJson('{"memory": 1}'));
    expect(mem.hint).toContain('--memory');
  });

  it('refuses invalid resource names', () => {
    usageErrorOf(() => parseResourcesJson('{"has space": 1}'));
    usageErrorOf(() => parseResourcesJson('{"": 1}'));
  });
});

describe('parseLabels', () => {
  it('parses comma-separated KEY=VALUE pairs', () => {
    expect(parseLabels('a=b,c=d')).toEqual({ a: 'b', c: 'd' });
    expect(parseLabels(' zone = eu-1 , disk=ssd')).toEqual({ zone: 'eu-1', disk: 'ssd' });
  });

  it('gives an empty map for empty input', () => {
    expect(parseLabels('')).toEqual({});
    expect(parseLabels('   ')).toEqual({});
  });

  it('allows an empty value', () => {
    expect(parseLabels('k=')).toEqual({ k: '' });
  });

  it('refuses pairs without a key or an =', () => {
    const err = usageErrorOf(() => parseLabels('novalue'));
    expect(err.message).toContain('novalue');
    expect(err.hint).toMatch(/--labels=\w+=/);
    usageErrorOf(() => parseLabels('=x'));
    usageErrorOf(() => parseLabels('a=b,,c=d'));
    usageErrorOf(() => parseLabels('a=b c'));
  });
});
