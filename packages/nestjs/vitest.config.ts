import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Test files are outside tsconfig.json's `include`, so the transformer does not see its decorator
  // settings for them: NestJS needs legacy decorators (and metadata) in tests as in `src`.
  oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } },
  test: {
    name: 'nestjs',
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
