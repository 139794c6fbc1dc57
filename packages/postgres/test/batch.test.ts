import { storeUnavailable } from '@passgate/core';
import { describe, expect, it } from 'vitest';
import { type BatchRunner, rerunUnlessOutage, TickBatcher } from '../src/batch.js';

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
    expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(/answered 1 of 2/);
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

describe('rerunUnlessOutage', () => {
  it('reruns what the database refused and lost conflicts, never an outage', () => {
    expect(rerunUnlessOutage(Object.assign(new Error('bad value'), { code: '22021' }))).toBe(true);
    expect(rerunUnlessOutage(storeUnavailable(Object.assign(new Error('deadlock'), { code: '40P01' })))).toBe(
      true,
    );
    expect(rerunUnlessOutage(storeUnavailable(Object.assign(new Error('conflict'), { code: '40001' })))).toBe(
      true,
    );
    expect(
      rerunUnlessOutage(storeUnavailable(Object.assign(new Error('down'), { code: 'ECONNREFUSED' }))),
    ).toBe(false);
    expect(rerunUnlessOutage(storeUnavailable(new Error('Connection terminated')))).toBe(false);
  });
});
