/**
 * A local working_dir on its way to the head: packed into a temp .tar.gz, checked against the
 * head's package limit (`GET /api/version`) before any byte is sent, uploaded only when the head
 * does not have that package already (its name is its sha256), and the temp file deleted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { formatBytes, packWorkingDir } from '@rayts/common';
import { WorkingDirTooLargeError } from '../errors.js';
import type { JobsClient } from './job_client.js';
import type { JobOutput } from './job_output.js';
import { packedLine, tooLargeProblem } from './job_format.js';

export interface WorkingDirUpload {
  client: Pick<JobsClient, 'version' | 'packageSize' | 'uploadPackage'>;
  output: JobOutput;
  /** Where the temp archive is written. */
  tmpDir: string;
}

const percent = (done: number, total: number) => (total > 0 ? Math.floor((done / total) * 100) : 100);

/** Packs and uploads `dir`; returns its package URI. */
export async function uploadWorkingDir(dir: { path: string; shown: string }, excludes: string[] | undefined, deps: WorkingDirUpload): Promise<string> {
  const { client, output } = deps;
  const scratch = mkdtempSync(join(deps.tmpDir, 'rayts-working-dir-'));
  try {
    const packed = await packWorkingDir(dir.path, join(scratch, 'working_dir.tar.gz'), {
      excludes,
      onProgress: (done, total) => output.progress(`Packing ${dir.shown}: ${done}/${total} files`),
    });
    output.progressDone();
    output.line('out', packedLine(dir.shown, packed));
    const limit = (await client.version()).package_max_bytes;
    if (typeof limit === 'number' && packed.size > limit) {
      const problem = tooLargeProblem(dir.shown, packed, limit);
      throw new WorkingDirTooLargeError(problem.message, problem.hint);
    }
    if (await client.packageSize(packed.uri) !== undefined) {
      output.line('out', `Package ${packed.uri} is already on the head, not uploaded.`);
      return packed.uri;
    }
    output.line('out', `Uploading package ${packed.uri} (${formatBytes(packed.size)}).`);
    await client.uploadPackage(packed.uri, packed.file, packed.size,
      (sent, total) => output.progress(`Uploading ${formatBytes(sent)} of ${formatBytes(total)} (${percent(sent, total)}%)`));
    output.progressDone();
    output.line('out', `Finished uploading package ${packed.uri}.`);
    return packed.uri;
  } finally {
    output.progressDone();
    rmSync(scratch, { recursive: true, force: true });
  }
}
