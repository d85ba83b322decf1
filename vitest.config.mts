import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration suites start servers and child processes: keep the 2-core machine unsaturated.
    maxWorkers: 2,
  },
});
