import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // Most tests wait on sockets, not the CPU: more workers than cores keeps the suite short.
    maxWorkers: 4,
    reporters: ['default'],
  },
});
