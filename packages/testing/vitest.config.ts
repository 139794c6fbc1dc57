import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'testing',
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // The mutation test runs its broken adapters side by side: they mostly wait on timers.
    maxConcurrency: 16,
  },
});
