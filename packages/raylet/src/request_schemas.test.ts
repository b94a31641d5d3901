import { describe, expect, it } from 'vitest';
import { raytsProto, v, withRequestSchemas } from '@rayts/common';
import { actorHostServiceSchemas, localHelloSchema, rayletServiceSchemas } from './request_schemas.js';

describe('the raylet\'s request schemas', () => {
  it('cover every method of its services', () => {
    const proto = raytsProto();
    for (const [def, table] of [[proto.RayletService.service, rayletServiceSchemas], [proto.ActorHostService.service, actorHostServiceSchemas]] as const) {
      const stubs = Object.fromEntries(Object.keys(def).map((m) => [m, () => undefined]));
      expect(() => withRequestSchemas(def, table, stubs)).not.toThrow();
    }
  });

  it('refuse bundles and tasks with amounts that would corrupt the node\'s view', () => {
    const bundles = { nodeId: '', bundles: [{ placementGroupId: 'a'.repeat(36), bundleIndex: 0, resources: { CPU: 1 } }] };
    expect(v.problemOf(rayletServiceSchemas.PrepareBundles, bundles)).toBeUndefined();
    expect(v.problemOf(rayletServiceSchemas.PrepareBundles, { ...bundles, bundles: [{ ...bundles.bundles[0], resources: { CPU: NaN } }] }))
      .toBe('bundles[0].resources.CPU must be a finite number, got NaN');
    expect(v.problemOf(rayletServiceSchemas.ExecuteTask, { task: null, jobDir: '' })).toBe('task is required, got nothing');
  });

  it('check a local client\'s hello by its role', () => {
    const driver = { type: 'hello', role: 'driver', token: 't', jobId: '00000001', pid: 10, jobDir: '/app' };
    expect(v.problemOf(localHelloSchema, driver, 'hello')).toBeUndefined();
    expect(v.problemOf(localHelloSchema, { ...driver, runtimeEnvJson: '{}' }, 'hello')).toBeUndefined();
    expect(v.problemOf(localHelloSchema, { ...driver, jobId: 'XYZ' }, 'hello')).toMatch(/^hello\.job_id must be a job id/);
    expect(v.problemOf(localHelloSchema, { ...driver, pid: NaN }, 'hello')).toBe('hello.pid must be a finite number, got NaN');
    expect(v.problemOf(localHelloSchema, { ...driver, role: 'admin' }, 'hello')).toBe('hello.role must be one of driver, worker, got "admin"');
    expect(v.problemOf(localHelloSchema, { type: 'hello', role: 'worker', token: 't', workerId: 'ab12', pid: 3 }, 'hello')).toBeUndefined();
    expect(v.problemOf(localHelloSchema, { type: 'hello', role: 'worker', token: 't', workerId: '../x', pid: 3 }, 'hello')).toMatch(/^hello\.worker_id must be a worker/);
  });
});
