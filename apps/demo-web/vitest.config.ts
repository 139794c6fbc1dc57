import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'demo-web',
    include: ['test/**/*.test.ts'],
  },
});
