import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'e2e',
    include: ['test/**/*.e2e.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // One browser at a time: this machine has two cores, and Chromium is the heavy part.
    fileParallelism: false,
  },
});
