import { describe, it, expect } from 'vitest';
import { TUNABLES, describeTunables, loadConfig, type TunableName } from './config.js';
import { UsageError } from './errors.js';

describe('loadConfig', () => {
  it('gives every default when the environment is empty', () => {
    const config = loadConfig({});
    for (const [name, spec] of Object.entries(TUNABLES)) {
      expect(config[name as TunableName]).toBe(spec.default);
    }
    expect(config.healthCheckPeriodMs).toBe(3000);
    expect(config.tmpDir).toBe('/tmp/rayts');
  });

  it('reads overrides from RAYTS_* variables with the right type', () => {
    const config = loadConfig({ RAYTS_HEALTH_CHECK_PERIOD_MS: '250', RAYTS_GCS_RECONNECT_TIMEOUT_S: '1.5', RAYTS_TMPDIR: '/var/tmp/x' });
    expect(config.healthCheckPeriodMs).toBe(250);
    expect(config.gcsReconnectTimeoutS).toBe(1.5);
    expect(config.tmpDir).toBe('/var/tmp/x');
    expect(config.healthCheckTimeoutMs).toBe(10000);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ RAYTS_HEALTH_CHECK_PERIOD_MS: '' }).healthCheckPeriodMs).toBe(3000);
  });

  it('lets explicit overrides win over the environment', () => {
    const config = loadConfig({ RAYTS_HEALTH_CHECK_PERIOD_MS: '250' }, { healthCheckPeriodMs: 42 });
    expect(config.healthCheckPeriodMs).toBe(42);
  });

  it('refuses a non-integer for an int tunable, naming the variable', () => {
    for (const bad of ['abc', '1.5', ' ']) {
      let caught: unknown;
      try {
        loadConfig({ RAYTS_HEALTH_CHECK_PERIOD_MS: bad });
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(UsageError);
      expect((caught as Error).message).toContain('RAYTS_HEALTH_CHECK_PERIOD_MS');
    }
  });

  it('refuses a non-number for a number tunable', () => {
    expect(() => loadConfig({ RAYTS_GCS_RECONNECT_TIMEOUT_S: 'Infinity' })).toThrow(/RAYTS_GCS_RECONNECT_TIMEOUT_S/);
  });

  it('returns a frozen object', () => {
    expect(Object.isFrozen(loadConfig({}))).toBe(true);
  });
});

describe('describeTunables', () => {
  it('lists every tunable with a RAYTS_ env name and a meaning', () => {
    const rows = describeTunables();
    expect(rows.map((r) => r.name).sort()).toEqual(Object.keys(TUNABLES).sort());
    for (const row of rows) {
      expect(row.env, row.name).toMatch(/^RAYTS_[A-Z0-9_]+$/);
      expect(row.meaning.trim().length, row.name).toBeGreaterThan(0);
      expect(row.default).toBe(String(TUNABLES[row.name as TunableName].default));
    }
  });

  it('never gives two tunables the same env name', () => {
    const envs = describeTunables().map((r) => r.env);
    const dupes = envs.filter((e, i) => envs.indexOf(e) !== i);
    expect(dupes).toEqual([]);
  });

  it('every env name round-trips through loadConfig', () => {
    for (const [name, spec] of Object.entries(TUNABLES) as [string, { env: string; kind: string }][]) {
      const raw = spec.kind === 'string' ? 'custom' : spec.kind === 'bool' ? 'true' : '7';
      const value = loadConfig({ [spec.env]: raw })[name as TunableName];
      expect(value, spec.env).toBe(spec.kind === 'string' ? 'custom' : spec.kind === 'bool' ? true : 7);
    }
  });
});
