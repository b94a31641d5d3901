import { defineConfig } from 'vitest/config';
import { LongestFirstSequencer } from './test/sequencer.js';

// Unit tests sit next to the code; tests that start real daemons live under test/.
// Cluster tests are heavy on a 2-core machine: at most two files run at once.
// The task, object, actor and placement-group suites run twice: as drivers on a node, and through
// rayts:// as remote clients (test/helpers/via_client.ts).
const VIA_CLIENT_SUITES = [
  'test/api/*.test.ts',
  'test/cluster/actors.test.ts',
  'test/cluster/actors_lifetime.test.ts',
  'test/cluster/placement_groups.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    sequence: { sequencer: LongestFirstSequencer },
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results.json' },
    projects: [
      {
        extends: true,
        test: { name: 'on-node', include: ['packages/*/src/**/*.test.ts', 'packages/dashboard/web/src/**/*.test.ts', 'test/**/*.test.ts'] },
      },
      {
        extends: true,
        test: { name: 'via-client', include: VIA_CLIENT_SUITES, env: { RAYTS_TEST_VIA_CLIENT: '1' } },
      },
    ],
  },
});
