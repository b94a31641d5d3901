/**
 * The runtime env a driver registers its job with: a submitted job's (from its environment, already
 * resolved by `rayts job submit`) with `init({ runtimeEnv })` merged over it field by field (env_vars
 * merged by name). A local working_dir is packed and uploaded to the head unless it has it already.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  PackageClient, parseRuntimeEnv, parseRuntimeEnvJson, resolveRuntimeEnv, tlsFromEnv, type Config, type RuntimeEnv,
} from '@rayts/common';

export interface HeadLink {
  gcsAddress: string;
  token: string;
  config: Config;
}

export async function jobRuntimeEnv(given: RuntimeEnv | undefined, head: HeadLink): Promise<RuntimeEnv> {
  const inherited = parseRuntimeEnvJson(process.env.RAYTS_JOB_RUNTIME_ENV ?? '');
  if (given === undefined) return inherited;
  const own = parseRuntimeEnv(given, 'any');
  let resolved = own;
  if (own.working_dir !== undefined) {
    const uploader = new PackageClient(head.gcsAddress, {
      token: head.token, tls: tlsFromEnv(), timeoutMs: head.config.gcsRpcTimeoutMs, chunkBytes: head.config.jobPackageChunkBytes,
    });
    const tmpDir = mkdtempSync(join(tmpdir(), 'rayts-pkg-'));
    try {
      resolved = await resolveRuntimeEnv(own, { baseDir: process.cwd(), uploader, tmpDir });
    } finally {
      uploader.close();
      rmSync(tmpDir, { recursive: true, force: true });
    }
  }
  const merged: RuntimeEnv = { ...inherited, ...resolved };
  if (inherited.env_vars || resolved.env_vars) merged.env_vars = { ...inherited.env_vars, ...resolved.env_vars };
  return merged;
}
