import { defineConfig } from 'vitest/config';

// Unit tests sit next to the code; tests that start real daemons live under test/.
// Cluster tests are heavy on a 2-core machine: at most two files run at once.
export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/dashboard/web/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results.json' },
  },
});
