import assert from 'node:assert/strict';

/**
 * The suite's assertions, independent of any test runner: the few `expect` matchers it uses (same
 * names and meaning as vitest's and Jest's), built on `node:assert/strict`. A failed assertion
 * throws `assert.AssertionError` with `actual` and `expected`, which vitest, Jest and `node:test` all
 * report as a failed test with a diff. (The suite cannot borrow the runner's own `expect`: Jest's and
 * vitest's claim the same global symbols and cannot both be loaded in one process.)
 */
export interface Assertion {
  /** `Object.is` equality. */
  toBe(expected: unknown): void;
  /** Deep, strict equality (`assert.deepStrictEqual`). */
  toEqual(expected: unknown): void;
  toBeNull(): void;
  toBeDefined(): void;
  toBeTruthy(): void;
  toBeInstanceOf(expected: abstract new (...args: never[]) => unknown): void;
  toHaveLength(length: number): void;
  /** An array or string that includes `item` (`Object.is` for array items). */
  toContain(item: unknown): void;
  toBeGreaterThan(n: number): void;
  toBeLessThan(n: number): void;
}

export function expect(actual: unknown, message?: string): Assertion & { not: Assertion } {
  const label = (what: string) => (message ? `${message}: ${what}` : what);
  const fail = (what: string, expected?: unknown): never => {
    throw new assert.AssertionError({ message: label(what), actual, expected, operator: 'expect' });
  };
  const show = (v: unknown) => {
    try {
      return JSON.stringify(v) ?? String(v);
    } catch {
      return String(v);
    }
  };
  const contains = (item: unknown) =>
    typeof actual === 'string'
      ? actual.includes(String(item))
      : Array.isArray(actual) && actual.some((x) => Object.is(x, item));

  const positive: Assertion = {
    toBe: (expected) => {
      if (!Object.is(actual, expected)) fail(`expected ${show(actual)} to be ${show(expected)}`, expected);
    },
    toEqual: (expected) => assert.deepStrictEqual(actual, expected, message),
    toBeNull: () => {
      if (actual !== null) fail(`expected ${show(actual)} to be null`, null);
    },
    toBeDefined: () => {
      if (actual === undefined) fail('expected a value, got undefined');
    },
    toBeTruthy: () => {
      if (!actual) fail(`expected ${show(actual)} to be truthy`);
    },
    toBeInstanceOf: (expected) => {
      if (!(actual instanceof expected))
        fail(`expected ${show(actual)} to be an instance of ${expected.name}`);
    },
    toHaveLength: (length) => {
      const actualLength = (actual as { length?: unknown } | null | undefined)?.length;
      if (actualLength !== length)
        fail(`expected length ${length}, got ${String(actualLength)}: ${show(actual)}`, length);
    },
    toContain: (item) => {
      if (!contains(item)) fail(`expected ${show(actual)} to contain ${show(item)}`);
    },
    toBeGreaterThan: (n) => {
      if (!((actual as number) > n)) fail(`expected ${show(actual)} to be greater than ${n}`);
    },
    toBeLessThan: (n) => {
      if (!((actual as number) < n)) fail(`expected ${show(actual)} to be less than ${n}`);
    },
  };
  const negative: Assertion = {
    toBe: (expected) => {
      if (Object.is(actual, expected)) fail(`expected a value other than ${show(expected)}`);
    },
    toEqual: (expected) => assert.notDeepStrictEqual(actual, expected, message),
    toBeNull: () => {
      if (actual === null) fail('expected a value other than null');
    },
    toBeDefined: () => {
      if (actual !== undefined) fail(`expected undefined, got ${show(actual)}`);
    },
    toBeTruthy: () => {
      if (actual) fail(`expected ${show(actual)} to be falsy`);
    },
    toBeInstanceOf: (expected) => {
      if (actual instanceof expected)
        fail(`expected ${show(actual)} not to be an instance of ${expected.name}`);
    },
    toHaveLength: (length) => {
      if ((actual as { length?: unknown } | null | undefined)?.length === length)
        fail(`expected a length other than ${length}`);
    },
    toContain: (item) => {
      if (contains(item)) fail(`expected ${show(actual)} not to contain ${show(item)}`);
    },
    toBeGreaterThan: (n) => {
      if ((actual as number) > n) fail(`expected ${show(actual)} not to be greater than ${n}`);
    },
    toBeLessThan: (n) => {
      if ((actual as number) < n) fail(`expected ${show(actual)} not to be less than ${n}`);
    },
  };
  return { ...positive, not: negative };
}
