import { storeUnavailable } from '@passgate/core';
import { describe, expect, it } from 'vitest';
import { type BatchRunner, rerunRefused, TickBatcher } from '../src/batch.js';

/** The batcher's own rules, with a runner that records what it was asked (no database needed). */
function recordingRunner(overrides: Partial<BatchRunner<string, string>> = {}) {
  const calls: { kind: 'one' | 'many'; inputs: string[] }[] = [];
  const runner: BatchRunner<string, string> = {
    keyOf: (input) => input.split(':')[0] as string,
    async one(input) {
      calls.push({ kind: 'one', inputs: [input] });
      return `one(${input})`;
    },
    async many(inputs) {
      calls.push({ kind: 'many', inputs: [...inputs] });
      return inputs.map((input) => `many(${input})`);
    },
    ...overrides,
  };
  return { runner, calls };
}

describe('TickBatcher', () => {
  it('sends the calls of one turn together, and a lone call on its own', async () => {
    const { runner, calls } = recordingRunner();
    const batcher = new TickBatcher(runner, 10);
    expect(await Promise.all([batcher.run('a'), batcher.run('b'), batcher.run('c')])).toEqual([
      'many(a)',
      'many(b)',
      'many(c)',
    ]);
    expect(await batcher.run('d')).toBe('one(d)');
    expect(calls).toEqual([
      { kind: 'many', inputs: ['a', 'b', 'c'] },
      { kind: 'one', inputs: ['d'] },
    ]);
  });

  it('never puts two calls with one key in one statement', async () => {
    const { runner, calls } = recordingRunner();
    const batcher = new TickBatcher(runner, 10);
    const results = await Promise.all([
      batcher.run('x:1'),
      batcher.run('y:1'),
      batcher.run('x:2'),
      batcher.run('x:3'),
      batcher.run('z:1'),
    ]);
    expect(results).toEqual(['many(x:1)', 'many(y:1)', 'one(x:2)', 'one(x:3)', 'many(z:1)']);
    expect(calls).toEqual([
      { kind: 'many', inputs: ['x:1', 'y:1', 'z:1'] },
      { kind: 'one', inputs: ['x:2'] },
      { kind: 'one', inputs: ['x:3'] },
    ]);
  });

  it('sends every call to one() at once when maxSize is below 2 (batching off)', async () => {
    for (const size of [0, 1]) {
      const { runner, calls } = recordingRunner();
      const batcher = new TickBatcher(runner, size);
      const results = Promise.all([batcher.run('a'), batcher.run('b')]);
      // Sent in the same turn, not at its end.
      expect(calls).toEqual([
        { kind: 'one', inputs: ['a'] },
        { kind: 'one', inputs: ['b'] },
      ]);
      expect(await results).toEqual(['one(a)', 'one(b)']);
    }
  });

  it('puts at most maxSize calls in one statement', async () => {
    const { runner, calls } = recordingRunner();
    const batcher = new TickBatcher(runner, 2);
    await Promise.all(['a', 'b', 'c', 'd', 'e'].map((input) => batcher.run(input)));
    expect(calls.map((call) => call.inputs)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });

  it('rejects every call of a failed statement with its error, and only those', async () => {
    const failure = new Error('database down');
    const { runner } = recordingRunner({
      async many(inputs) {
        if (inputs.includes('bad')) throw failure;
        return inputs.map((input) => `many(${input})`);
      },
    });
    const batcher = new TickBatcher(runner, 2);
    const results = await Promise.allSettled([
      batcher.run('bad'),
      batcher.run('b'),
      batcher.run('c'),
      batcher.run('d'),
    ]);
    expect(results.map((result) => result.status)).toEqual([
      'rejected',
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
    expect((results[0] as PromiseRejectedResult).reason).toBe(failure);
    expect((results[1] as PromiseRejectedResult).reason).toBe(failure);
  });

  it('rejects a call whose runner throws synchronously instead of throwing from the timer', async () => {
    const failure = new Error('bad input');
    const { runner } = recordingRunner({
      one: () => {
        throw failure;
      },
    });
    await expect(new TickBatcher(runner, 4).run('a')).rejects.toBe(failure);
  });

  it('rejects every call when a statement answers for fewer calls than it was given', async () => {
    const { runner } = recordingRunner({ many: async (inputs) => inputs.slice(1) });
    const batcher = new TickBatcher(runner, 4);
    const results = await Promise.allSettled([batcher.run('a'), batcher.run('b')]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(/answered 1 for 2 calls/);
  });

  it('reruns a failed statement call by call when rerunAlone says so', async () => {
    const { runner, calls } = recordingRunner({
      async many() {
        throw new Error('one value was refused');
      },
      async one(input) {
        if (input === 'bad') throw new Error('refused: bad');
        return `one(${input})`;
      },
      rerunAlone: () => true,
    });
    const batcher = new TickBatcher(runner, 4);
    const results = await Promise.allSettled([batcher.run('a'), batcher.run('bad'), batcher.run('c')]);
    expect(results).toEqual([
      { status: 'fulfilled', value: 'one(a)' },
      { status: 'rejected', reason: new Error('refused: bad') },
      { status: 'fulfilled', value: 'one(c)' },
    ]);
    expect(calls).toEqual([]);
  });
});

describe('rerunRefused', () => {
  /** An error as node-postgres makes one from PostgreSQL's answer: a severity and a SQLSTATE. */
  const sent = (code: string) => Object.assign(new Error(`server said ${code}`), { code, severity: 'ERROR' });

  it('reruns what the database refused and conflicts it ended, never an outage', () => {
    expect(rerunRefused(sent('22021'))).toBe(true);
    expect(rerunRefused(sent('23514'))).toBe(true);
    expect(rerunRefused(storeUnavailable(sent('40P01')))).toBe(true);
    expect(rerunRefused(storeUnavailable(sent('40001')))).toBe(true);
    expect(rerunRefused(storeUnavailable(sent('57014')))).toBe(false);
    expect(rerunRefused(storeUnavailable(Object.assign(new Error('down'), { code: 'ECONNREFUSED' })))).toBe(
      false,
    );
    expect(rerunRefused(storeUnavailable(new Error('Connection terminated')))).toBe(false);
  });

  it('never reruns an error raised in the client, which may follow a committed statement', () => {
    // A type parser that throws while reading the rows: the consume already happened.
    expect(rerunRefused(new TypeError('cannot parse'))).toBe(false);
    expect(rerunRefused(Object.assign(new Error('no severity'), { code: '22021' }))).toBe(false);
  });
});

describe('TickBatcher settles every call', () => {
  it('when rerunAlone itself throws', async () => {
    const { runner } = recordingRunner({
      async many() {
        throw new Error('refused');
      },
      rerunAlone: () => {
        throw new Error('rerunAlone broke');
      },
    });
    const batcher = new TickBatcher(runner, 4);
    const results = await Promise.allSettled([batcher.run('a'), batcher.run('b')]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(/rerunAlone broke/);
  });

  it('when a statement resolves something that is not a list', async () => {
    const { runner } = recordingRunner({ many: async () => undefined as unknown as string[] });
    const batcher = new TickBatcher(runner, 4);
    const results = await Promise.allSettled([batcher.run('a'), batcher.run('b')]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(/answered no list for 2 calls/);
  });
});
