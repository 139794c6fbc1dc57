import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// @passgate/testing depends on @passgate/core, so core's own tests reach the testing kit by source
// rather than by a workspace dependency (which would make a build cycle). `@passgate/core` is aliased
// to source too, so the kit and the tests share one copy of the error classes.
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@passgate\/core\/http$/, replacement: here('./src/http/index.ts') },
      { find: /^@passgate\/core\/fetch$/, replacement: here('./src/fetch/index.ts') },
      { find: /^@passgate\/core$/, replacement: here('./src/index.ts') },
      { find: /^@passgate\/testing\/conformance$/, replacement: here('../testing/src/conformance/index.ts') },
      { find: /^@passgate\/testing\/contract$/, replacement: here('../testing/src/contract/index.ts') },
      { find: /^@passgate\/testing$/, replacement: here('../testing/src/index.ts') },
    ],
  },
  test: {
    name: 'core',
    include: ['test/**/*.test.ts'],
    benchmark: { include: ['bench/**/*.bench.ts'] },
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
