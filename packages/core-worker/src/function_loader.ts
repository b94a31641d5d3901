/**
 * Turns a shipped function's source back into a callable in a worker. `import()` inside task code
 * goes through the job's importer: 'rayts' is the runtime itself, other specifiers resolve against
 * the job's working directory.
 */
import { pathToFileURL } from 'node:url';
import type { RemoteFunctionDescriptor } from './function/descriptor.js';
import { compileRemote, makeImporter, type JobImporter } from './function/index.js';

/** The public API package, which `import('rayts')` inside a task must give. */
export const RAYTS_API_URL = import.meta.resolve('@rayts/api');

const importers = new Map<string, JobImporter>();

function importerFor(jobDir: string): JobImporter {
  let importer = importers.get(jobDir);
  if (!importer) {
    importer = makeImporter({ jobDir, aliases: { rayts: RAYTS_API_URL } });
    importers.set(jobDir, importer);
  }
  return importer;
}

export function compileFunction(desc: RemoteFunctionDescriptor, jobDir: string): (...args: unknown[]) => unknown {
  const importer = importerFor(jobDir || process.cwd());
  return compileRemote(desc, {
    importer,
    importMeta: { url: pathToFileURL(`${importer.jobDir}/`).href, dirname: importer.jobDir, resolve: importer.resolve },
  }) as (...args: unknown[]) => unknown;
}
