import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'e2e',
    include: ['test/**/*.e2e.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // expect.poll waits for what the page shows after a ceremony (several requests and a WebAuthn
    // call), which can take more than vitest's default of 1 s on a loaded two-core machine. A poll ends
    // as soon as its condition holds, so this only bounds how long a real failure takes to report.
    expect: { poll: { timeout: 15_000 } },
    // One browser at a time: this machine has two cores, and Chromium is the heavy part.
    fileParallelism: false,
  },
});
