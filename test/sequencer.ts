/**
 * Runs the longest test files first (seconds per file from a full run, test/durations.json; a file
 * run by both projects has the longer of its two), so
 * the two workers finish together instead of one running a long file alone at the end. Vitest's own
 * order needs its cache, which a fresh clone (CI) does not have. Files not listed run first: a new
 * file may be long. `node scripts/test-durations.mjs` rewrites the list from test-results.json.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const durations: Record<string, number> = JSON.parse(readFileSync(new URL('./durations.json', import.meta.url), 'utf8'));

export class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    const seconds = (f: TestSpecification) => durations[relative(root, f.moduleId)] ?? Infinity;
    return [...files].sort((a, b) => seconds(b) - seconds(a));
  }
}
