import { describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import {
  CHECKED_PER_MESSAGE, RequestValidationError, bool, bytes, hexId, list, map, num, obj, oneOf, optional, problemOf, resources, str, uint32, withRequestSchemas,
  type Schema,
} from './validate.js';
import { actorSpec, nodeInfo, taskSpec } from './message_schemas.js';
import { raytsProto } from './proto.js';

/** The message of the INVALID_ARGUMENT a value gets, or undefined when it passes. */
const refusal = (s: Schema, value: unknown, path = 'f') => problemOf(s, value, path);

describe('validators', () => {
  it('ids: exact length, lowercase hex, optional empty', () => {
    const id = hexId(4);
    expect(refusal(id, 'deadbeef')).toBeUndefined();
    expect(refusal(id, 'deadbee')).toBe('f must be 8 lowercase hex characters, got "deadbee"');
    expect(refusal(id, 'deadbeef0')).toMatch(/must be 8 lowercase hex/);
    expect(refusal(id, 'DEADBEEF')).toMatch(/must be 8 lowercase hex/);
    expect(refusal(id, 'zzzzzzzz')).toMatch(/must be 8 lowercase hex/);
    expect(refusal(id, '')).toMatch(/must be 8 lowercase hex/);
    expect(refusal(id, 12345678)).toBe('f must be a string, got 12345678');
    expect(refusal(hexId(4, { optional: true }), '')).toBeUndefined();
    expect(refusal(hexId(4, { optional: true }), 'abc')).toMatch(/must be empty or 8 lowercase hex/);
  });

  it('numbers: finite, in range, whole when asked', () => {
    const n = num({ min: 0, max: 10, integer: true });
    expect(refusal(n, 0)).toBeUndefined();
    expect(refusal(n, 10)).toBeUndefined();
    for (const bad of [NaN, Infinity, -Infinity]) expect(refusal(n, bad)).toBe(`f must be a finite number, got ${bad}`);
    expect(refusal(n, -1)).toBe('f must be 0 to 10, got -1');
    expect(refusal(n, 11)).toBe('f must be 0 to 10, got 11');
    expect(refusal(n, 1.5)).toBe('f must be a whole number, got 1.5');
    expect(refusal(n, '3')).toBe('f must be a number, got "3"');
    expect(refusal(uint32, 2 ** 32)).toMatch(/must be 0 to 4294967295/);
  });

  it('resource maps: names by the rule, amounts finite and non-negative, a bounded count', () => {
    const r = resources();
    expect(refusal(r, { CPU: 1, GPU: 0, 'node:127.0.0.1': 0.001, [`CPU_group_0_${'a'.repeat(36)}`]: 1, memory: 8e9 })).toBeUndefined();
    expect(refusal(r, { CPU: -Infinity }, 'resources_available')).toBe('resources_available.CPU must be a finite number, got -Infinity');
    expect(refusal(r, { CPU: NaN })).toMatch(/f\.CPU must be a finite number, got NaN/);
    expect(refusal(r, { CPU: -1 })).toMatch(/f\.CPU must be 0 to 1000000000000000, got -1/);
    expect(refusal(r, { CPU: 1e300 })).toMatch(/must be 0 to/);
    expect(refusal(r, { '': 1 })).toMatch(/f key is required/);
    expect(refusal(r, { 'bad name!': 1 })).toMatch(/f key must be a resource name/);
    expect(refusal(r, { [`r${'x'.repeat(300)}`]: 1 })).toMatch(/at most 256 characters/);
    expect(refusal(r, Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`r${i}`, 1])))).toBe('f must have at most 256 entries, got 257 items');
    expect(refusal(resources({ maxEntries: 2 }), { a: 1, b: 1, c: 1 })).toMatch(/at most 2 entries/);
  });

  it('strings: length bounds and patterns, with a short preview of what was refused', () => {
    const s = str({ min: 1, max: 5, pattern: /^[a-z]+$/, describe: 'lowercase letters' });
    expect(refusal(s, 'abc')).toBeUndefined();
    expect(refusal(s, '')).toBe('f is required, got ""');
    expect(refusal(s, 'abcdef')).toBe('f must be at most 5 characters, got "abcdef"');
    expect(refusal(s, 'ab1')).toBe('f must be lowercase letters, got "ab1"');
    expect(refusal(str({ max: 5 }), 'x'.repeat(1_000_000))).toBe(`f must be at most 5 characters, got ${JSON.stringify('x'.repeat(60))}… (1000000 characters)`);
    expect(refusal(str({ max: 5, pattern: /^a+$/ }), '')).toBeUndefined(); // empty is allowed unless min says otherwise
  });

  it('lists, maps, bytes, booleans, enums and messages name the failing field', () => {
    expect(refusal(list(hexId(1), { max: 2 }), ['ab', 'cd', 'ef'])).toBe('f must have at most 2 items, got 3 items');
    expect(refusal(list(hexId(1), { max: 3 }), ['ab', 'zz'])).toBe('f[1] must be 2 lowercase hex characters, got "zz"');
    expect(refusal(map(str({ min: 1, max: 3 }), str({ max: 2 }), { max: 5 }), { a: 'xyz' })).toBe('f.a must be at most 2 characters, got "xyz"');
    expect(refusal(bytes({ max: 3 }), Buffer.alloc(4))).toBe('f must be at most 3 bytes, got 4 bytes');
    expect(refusal(bool(), 'true')).toBe('f must be true or false, got "true"');
    expect(refusal(oneOf(['a', 'b']), 'c')).toBe('f must be one of a, b, got "c"');
    const m = obj({ nodeId: hexId(1), spec: optional(obj({ maxRestarts: num({ min: -1, max: 5 }) })) });
    expect(refusal(m, { nodeId: 'ab', spec: null }, '')).toBeUndefined();
    expect(refusal(m, { nodeId: 'ab', spec: { maxRestarts: -2 } }, '')).toBe('spec.max_restarts must be -1 to 5, got -2');
    expect(refusal(m, null, '')).toBe('request is required, got nothing');
    expect(() => m.parse({ nodeId: 'x', spec: null })).toThrow(RequestValidationError);
    try {
      m.parse({ nodeId: 'x', spec: null });
    } catch (err) {
      expect((err as RequestValidationError).code).toBe(grpc.status.INVALID_ARGUMENT);
      expect((err as RequestValidationError).field).toBe('node_id');
    }
  });

  it('message schemas accept what rayts itself sends and refuse the fuzzer\'s finds', () => {
    const node = {
      nodeId: 'a'.repeat(56), nodeIp: '127.0.0.1', rayletPort: 4000, hostname: 'h', isHead: true, resourcesTotal: { CPU: 2, memory: 1e9 },
      labels: { zone: 'a' }, startTimeMs: Date.now(), rayletPid: 42, sessionName: 's', version: '0.1.0', nodeVersion: 'v20.0.0',
    };
    expect(refusal(nodeInfo, node, 'node')).toBeUndefined();
    expect(refusal(nodeInfo, { ...node, resourcesTotal: { CPU: -Infinity } }, 'node')).toBe('node.resources_total.CPU must be a finite number, got -Infinity');
    const task = {
      taskId: 'b'.repeat(56), jobId: '00000001', attempt: 0, name: 'square', fnHash: 'f'.repeat(64), args: [{ value: Buffer.alloc(3), inPlasma: false, objectId: '', nodeId: '', size: 0 }],
      returnId: 'c'.repeat(56), resources: { CPU: 1 }, strategy: { kind: 'DEFAULT', nodeId: '', soft: false }, ownerNodeId: 'a'.repeat(56),
      ownerClientId: 'driver-123-1', depth: 0, driverNodeId: 'a'.repeat(56), actorId: '', method: '',
    };
    expect(refusal(taskSpec, task, 'task')).toBeUndefined();
    expect(refusal(taskSpec, { ...task, strategy: null }, 'task')).toBeUndefined();
    expect(refusal(taskSpec, { ...task, resources: { CPU: -Infinity } }, 'task')).toBe('task.resources.CPU must be a finite number, got -Infinity');
    expect(refusal(taskSpec, { ...task, taskId: 'b'.repeat(55) }, 'task')).toMatch(/^task\.task_id must be 56 lowercase hex/);
    expect(refusal(taskSpec, { ...task, strategy: { kind: 'EVERYWHERE', nodeId: '', soft: false } }, 'task')).toMatch(/task\.strategy\.kind must be one of/);
    const spec = {
      actorId: 'd'.repeat(32), jobId: '00000001', className: 'Counter', classHash: 'e'.repeat(64), methodNames: ['increment'], args: [], name: '', namespace: '',
      detached: false, maxRestarts: -1, maxTaskRetries: 0, maxConcurrency: 1, maxPendingCalls: -1, placementResources: { CPU: 1 }, heldResources: {},
      strategy: null, ownerNodeId: '', ownerClientId: 'driver-1-1', jobDir: '/home/u/app', driverNodeId: '', reservedNodeId: '',
    };
    expect(refusal(actorSpec, spec, 'spec')).toBeUndefined();
    expect(refusal(actorSpec, { ...spec, maxConcurrency: 0 }, 'spec')).toBe('spec.max_concurrency must be 1 to 1000000, got 0');
  });
});

describe('withRequestSchemas', () => {
  const service = raytsProto().NodeService.service;
  const handlers = Object.fromEntries(['RegisterNode', 'ReportResources', 'UnregisterNode', 'ListNodes'].map((m) => [m, (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, { handled: m })]));
  const schemas = { RegisterNode: obj({}), ReportResources: obj({ nodeId: hexId(28) }), UnregisterNode: obj({}), ListNodes: obj({}) };

  it('answers INVALID_ARGUMENT before the handler runs, and passes valid requests through', async () => {
    const impl = withRequestSchemas(service, schemas, handlers);
    const call = (request: unknown) => new Promise<{ err: Partial<grpc.StatusObject> | null; value: unknown }>((resolve) => {
      (impl.ReportResources as (c: unknown, cb: grpc.sendUnaryData<unknown>) => void)({ request }, (err, value) => resolve({ err: err as Partial<grpc.StatusObject> | null, value }));
    });
    expect(await call({ nodeId: 'a'.repeat(56) })).toEqual({ err: null, value: { handled: 'ReportResources' } });
    const refused = await call({ nodeId: 'a' });
    expect(refused.err).toEqual({ code: grpc.status.INVALID_ARGUMENT, details: 'node_id must be 56 lowercase hex characters, got "a"' });
    expect(refused.value).toBeUndefined();
  });

  it('refuses to build a service with a method that has no schema, or a streamed one without its marker', () => {
    const { ListNodes: _omitted, ...partial } = schemas;
    expect(() => withRequestSchemas(service, partial, handlers)).toThrow(/NodeService\/ListNodes has no request schema/);
    const packages = raytsProto().PackageService.service;
    const pkgHandlers = { PackageExists: () => undefined, UploadPackage: () => undefined, DownloadPackage: () => undefined };
    expect(() => withRequestSchemas(packages, { PackageExists: obj({}), UploadPackage: obj({}), DownloadPackage: obj({}) }, pkgHandlers)).toThrow(/streams its requests/);
    expect(() => withRequestSchemas(packages, { PackageExists: obj({}), UploadPackage: CHECKED_PER_MESSAGE, DownloadPackage: obj({}) }, pkgHandlers)).not.toThrow();
  });
});
