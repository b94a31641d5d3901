/** StartJobDriver / StopJobDriver handlers: every field checked (INVALID_ARGUMENT naming it), busy nodes RESOURCE_EXHAUSTED. */
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { nullLogger, type StartJobDriverRequest__Output } from '@rayts/common';
import { ResourcesUnavailableError } from '../errors.js';
import { jobDriverHandlers } from './job_driver_service.js';
import type { DriverStart } from './job_drivers.js';

type Handler = (call: unknown, cb: (err: { code: number; details: string } | null, reply?: unknown) => void) => void;

function call(handler: unknown, request: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => (handler as Handler)({ request }, (err, reply) => (err ? reject(err) : resolve(reply))));
}

const GOOD: StartJobDriverRequest__Output = { submissionId: 'raysubmit_1', entrypoint: 'node main.mjs', runtimeEnvJson: '', resources: { CPU: 1 } };

describe('job driver handlers', () => {
  const started: DriverStart[] = [];
  const handlers = jobDriverHandlers({
    start: (req) => {
      if (req.resources.CPU === 64) throw new ResourcesUnavailableError('node n does not have {"CPU":64} free');
      started.push(req);
      return { submissionId: req.submissionId, nodeId: 'n', phase: 'JOB_DRIVER_PREPARING', pid: 0, logFile: '', exitCode: 0, signal: '', stopped: false, message: '', timeMs: 1 };
    },
    stop: (id) => id === 'raysubmit_1',
  }, nullLogger);

  it('starts a valid request, parsing its runtime env and dropping zero resources', async () => {
    const env = JSON.stringify({ working_dir: `gcs://_rayts_pkg_${'a'.repeat(64)}.tar.gz`, env_vars: { A: '1' } });
    await expect(call(handlers.StartJobDriver, { ...GOOD, runtimeEnvJson: env, resources: { CPU: 1, GPU: 0 } })).resolves.toMatchObject({ phase: 'JOB_DRIVER_PREPARING' });
    expect(started.at(-1)).toMatchObject({ submissionId: 'raysubmit_1', resources: { CPU: 1 }, runtimeEnvJson: env, runtimeEnv: { env_vars: { A: '1' } } });
  });

  it.each([
    [{ submissionId: '' }, /submission_id "" is not valid/],
    [{ submissionId: '../etc' }, /submission_id "\.\.\/etc" is not valid/],
    [{ submissionId: 'a'.repeat(129) }, /submission_id .* is not valid/],
    [{ entrypoint: '   ' }, /entrypoint is empty/],
    [{ entrypoint: 'x'.repeat(70_000) }, /entrypoint is longer than 65536 bytes/],
    [{ runtimeEnvJson: '{"pip":["x"]}' }, /runtime_env_json: runtime_env\.pip: is a Python environment field/],
    [{ runtimeEnvJson: '{"working_dir":"./app"}' }, /runtime_env_json: runtime_env\.working_dir: '\.\/app' is not a package URI/],
    [{ runtimeEnvJson: '{not json' }, /runtime_env_json: runtime_env\.\(root\): is not JSON/],
    [{ resources: { CPU: -1 } }, /resources\.CPU must be a finite amount >= 0, got -1/],
    [{ resources: { CPU: Number.NaN } }, /resources\.CPU must be a finite amount >= 0, got NaN/],
    [{ resources: { 'bad name': 1 } }, /resources: 'bad name' is not a valid resource name/],
  ])('refuses %o with INVALID_ARGUMENT naming the field', async (change, message) => {
    const err = await call(handlers.StartJobDriver, { ...GOOD, ...change }).then(() => undefined, (e: { code: number; details: string }) => e);
    expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err?.details).toMatch(message);
  });

  it('answers RESOURCE_EXHAUSTED when the resources are not free now', async () => {
    const err = await call(handlers.StartJobDriver, { ...GOOD, resources: { CPU: 64 } }).then(() => undefined, (e: { code: number; details: string }) => e);
    expect(err).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED, details: 'node n does not have {"CPU":64} free' });
  });

  it('stops by submission id, checking the id and the grace period', async () => {
    await expect(call(handlers.StopJobDriver, { submissionId: 'raysubmit_1', graceMs: 3000 })).resolves.toEqual({ found: true });
    await expect(call(handlers.StopJobDriver, { submissionId: 'raysubmit_2', graceMs: 3000 })).resolves.toEqual({ found: false });
    await expect(call(handlers.StopJobDriver, { submissionId: 'x/y', graceMs: 3000 })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
    await expect(call(handlers.StopJobDriver, { submissionId: 'raysubmit_1', graceMs: 10_000_000 })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/grace_ms must be 0 to 3600000/) });
  });
});
