import { defineConfig } from 'vitest/config';

// One run over every package so `pnpm test` prints a single total. Each package keeps its own
// vitest.config.ts (name, include, timeouts) so `pnpm --filter <pkg> test` works on its own too.
export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.ts', 'apps/*/vitest.config.ts', 'examples/*/vitest.config.ts'],
  },
});
