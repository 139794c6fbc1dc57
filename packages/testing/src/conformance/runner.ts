/**
 * The few test-runner functions the conformance suite registers its tests with. Every runner has
 * them under some name: vitest and Jest (`describe`, `it`, `beforeAll`, `afterAll`), `node:test`
 * (`before`/`after`, and the timeout in an options object), or the programmatic runner in
 * `./programmatic.ts`. The suite brings its own assertions (`./expect.ts`), so nothing else is needed.
 */
export interface TestRunner {
  /** Registers a group; `body` registers its tests and hooks (synchronously). */
  describe(name: string, body: () => void): void;
  /** Registers a test; it fails when `fn` rejects or throws, or runs longer than `timeoutMs`. */
  it(name: string, fn: () => Promise<void> | void, timeoutMs?: number): void;
  /** Runs once before the tests of the enclosing group. */
  beforeAll(fn: () => Promise<void> | void, timeoutMs?: number): void;
  /** Runs once after the tests of the enclosing group, even when some failed. */
  afterAll(fn: () => Promise<void> | void, timeoutMs?: number): void;
  /**
   * Registers a test that is not run, with the reason shown in the runner's report. Optional: without
   * it the suite registers a passing test whose name carries the reason.
   */
  skip?(name: string, reason: string): void;
}

/** Registers a skipped test with its reason, on any runner. */
export function skipWithReason(runner: TestRunner, name: string, reason: string): void {
  if (runner.skip) runner.skip(name, reason);
  else runner.it(`${name} (not run: ${reason})`, () => {});
}
