import { describe, expect, it } from 'vitest';
import { createRedisStores } from '../src/index.js';
import { redisForFile, scanKeys, sleep } from './helpers.js';

const { prefix, client } = redisForFile('memory');

describe('abandoned ceremonies', () => {
  it('100,000 puts with a 1 s TTL leave no key behind once the TTL has passed', {
    timeout: 30_000,
  }, async () => {
    const { challenges } = createRedisStores({ client, prefix, commandTimeoutMs: 5000 });
    const total = 100_000;
    const batch = 10_000;
    const started = performance.now();
    for (let offset = 0; offset < total; offset += batch) {
      // One batch of concurrent puts is written to the socket back to back (pipelined).
      const results = await Promise.all(
        Array.from({ length: batch }, (_, i) =>
          challenges.put(`abandoned-${offset + i}`, '{"challenge":"x"}', 1000),
        ),
      );
      expect(results.every(Boolean)).toBe(true);
    }
    const lastPutAt = performance.now();
    const putMs = lastPutAt - started;
    const peak = (await scanKeys(client, prefix)).length;
    const afterPutsMs = performance.now() - started;

    // The last batch was written at most a moment before lastPutAt: wait its 1 s TTL plus 1 s.
    await sleep(Math.max(0, lastPutAt + 2000 - performance.now()));
    const left = (await scanKeys(client, prefix)).length;
    const totalMs = performance.now() - started;

    console.info(
      `100k abandoned ceremonies: puts ${Math.round(putMs)} ms, peak ${peak} keys (counted by ${Math.round(afterPutsMs)} ms), ` +
        `${left} keys left at ${Math.round(totalMs)} ms`,
    );
    // Keys written early may already have expired when the count runs.
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(total);
    // No duration bound: how fast this runs is for the benchmarks; the test's timeout bounds it.
    expect(left).toBe(0);
  });
});
