import type { TestRunner } from './runner.js';

/** One test's outcome from {@link createProgrammaticRunner}. */
export interface TestOutcome {
  /** Group names and the test name, joined with ' › '. */
  name: string;
  status: 'passed' | 'failed' | 'skipped';
  /** Why it failed (the assertion or the error), or why it was skipped. */
  error?: unknown;
}

interface Group {
  name: string;
  before: Hook[];
  after: Hook[];
  children: (Group | Test)[];
}
interface Hook {
  fn: () => Promise<void> | void;
  timeoutMs: number;
}
interface Test extends Hook {
  name: string;
  skipReason?: string;
}

const DEFAULT_TIMEOUT_MS = 20_000;

/**
 * A runner that needs no test framework: register a suite on `runner`, then `run()` executes it and
 * resolves every test's outcome. Tests run one after the other, in registration order, with the
 * hooks of their groups; a failing `beforeAll` fails the tests of its group. Use it to check a suite
 * programmatically (the conformance suite's own mutation test runs broken adapters through it) or to
 * run it from a script.
 *
 * @example
 * const { runner, run } = createProgrammaticRunner();
 * describeStorageAdapterWith(runner, 'mine', setup);
 * const outcomes = await run();
 * const failed = outcomes.filter((o) => o.status === 'failed');
 */
export function createProgrammaticRunner(options: { timeoutMs?: number } = {}): {
  runner: TestRunner;
  run(): Promise<TestOutcome[]>;
} {
  const defaultTimeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const root: Group = { name: '', before: [], after: [], children: [] };
  let current = root;
  const runner: TestRunner = {
    describe(name, body) {
      const group: Group = { name, before: [], after: [], children: [] };
      current.children.push(group);
      const parent = current;
      current = group;
      try {
        body();
      } finally {
        current = parent;
      }
    },
    it(name, fn, timeoutMs) {
      current.children.push({ name, fn, timeoutMs: timeoutMs ?? defaultTimeout });
    },
    beforeAll(fn, timeoutMs) {
      current.before.push({ fn, timeoutMs: timeoutMs ?? defaultTimeout });
    },
    afterAll(fn, timeoutMs) {
      current.after.push({ fn, timeoutMs: timeoutMs ?? defaultTimeout });
    },
    skip(name, reason) {
      current.children.push({ name, fn: () => {}, timeoutMs: 0, skipReason: reason });
    },
  };

  async function runGroup(group: Group, path: string[], out: TestOutcome[]): Promise<void> {
    const here = group.name ? [...path, group.name] : path;
    let setupError: unknown;
    for (const hook of group.before) {
      setupError = await attempt(hook);
      if (setupError !== undefined) break;
    }
    for (const child of group.children) {
      if ('children' in child) {
        if (setupError === undefined) await runGroup(child, here, out);
        else
          for (const name of testNames(child, here)) out.push({ name, status: 'failed', error: setupError });
        continue;
      }
      const name = [...here, child.name].join(' › ');
      if (child.skipReason !== undefined) out.push({ name, status: 'skipped', error: child.skipReason });
      else if (setupError !== undefined) out.push({ name, status: 'failed', error: setupError });
      else {
        const error = await attempt(child);
        out.push(error === undefined ? { name, status: 'passed' } : { name, status: 'failed', error });
      }
    }
    for (const hook of group.after) {
      const error = await attempt(hook);
      if (error !== undefined)
        out.push({ name: [...here, '(afterAll)'].join(' › '), status: 'failed', error });
    }
  }

  return {
    runner,
    async run() {
      const out: TestOutcome[] = [];
      await runGroup(root, [], out);
      return out;
    },
  };
}

function testNames(group: Group, path: string[]): string[] {
  const here = [...path, group.name];
  return group.children.flatMap((c) =>
    'children' in c ? testNames(c, here) : [[...here, c.name].join(' › ')],
  );
}

/** Runs `hook` with its timeout; resolves the error it failed with, or `undefined`. */
async function attempt(hook: Hook): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${hook.timeoutMs} ms`)), hook.timeoutMs);
  });
  try {
    await Promise.race([Promise.resolve().then(hook.fn), timedOut]);
    return undefined;
  } catch (error) {
    return error ?? new Error('rejected without a reason');
  } finally {
    clearTimeout(timer);
  }
}
