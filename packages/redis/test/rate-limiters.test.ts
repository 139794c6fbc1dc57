import type { RateLimitOptions } from '@passgate/core';
import type { Redis } from 'ioredis';
import { RateLimiterRes } from 'rate-limiter-flexible';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisRateLimiters, DEFAULT_ACCOUNT_FAILURES, DEFAULT_PER_IP } from '../src/index.js';
import { connect, deleteKeys, randomPrefix, scanKeys } from './helpers.js';

const prefix = randomPrefix('ratelimit');
let clientA: Redis;
let clientB: Redis;

beforeAll(async () => {
  clientA = connect();
  clientB = connect();
  // The limiters reject while a client is still connecting (rejectIfRedisNotReady).
  await Promise.all([clientA.ping(), clientB.ping()]);
});
afterAll(async () => {
  await deleteKeys(clientA, prefix);
  clientA.disconnect();
  clientB.disconnect();
});

describe('createRedisRateLimiters', () => {
  it('uses the documented defaults', () => {
    const limiters = createRedisRateLimiters({ client: clientA, prefix });
    // Type-level check: the result is what the core's `rateLimits` option takes.
    const asCoreOption: RateLimitOptions = limiters;
    expect(asCoreOption.perIp).toBe(limiters.perIp);
    expect(DEFAULT_PER_IP).toEqual({ points: 60, durationSeconds: 60 });
    expect(DEFAULT_ACCOUNT_FAILURES).toEqual({ points: 10, durationSeconds: 900 });
    expect(limiters.perIp.points).toBe(60);
    expect(limiters.perIp.duration).toBe(60);
    expect(limiters.accountFailures.points).toBe(10);
    expect(limiters.accountFailures.duration).toBe(900);
  });

  it('two instances (two processes’ worth: separate clients) share one count per key', async () => {
    const options = {
      prefix,
      perIp: { points: 5, durationSeconds: 60 },
      accountFailures: { points: 3, durationSeconds: 60 },
    };
    const a = createRedisRateLimiters({ client: clientA, ...options });
    const b = createRedisRateLimiters({ client: clientB, ...options });

    const ip = '203.0.113.7';
    const outcomes: (number | 'rejected')[] = [];
    for (let i = 0; i < 7; i++) {
      const limiter = i % 2 === 0 ? a.perIp : b.perIp;
      outcomes.push(
        await limiter.consume(ip).then(
          (res) => res.remainingPoints,
          (rejection: unknown) => {
            expect(rejection).toBeInstanceOf(RateLimiterRes);
            return 'rejected' as const;
          },
        ),
      );
    }
    expect(outcomes).toEqual([4, 3, 2, 1, 0, 'rejected', 'rejected']);

    await a.accountFailures.consume('user-handle-1');
    await b.accountFailures.consume('user-handle-1');
    expect((await a.accountFailures.get('user-handle-1'))?.consumedPoints).toBe(2);
    expect((await b.accountFailures.get('user-handle-1'))?.remainingPoints).toBe(1);
    // Buckets and keys are independent.
    expect(await b.accountFailures.get(ip)).toBeNull();
    expect((await a.perIp.get('198.51.100.1')) ?? null).toBeNull();

    const keys = (await scanKeys(clientA, prefix)).sort();
    expect(keys).toEqual([`${prefix}rl:acct:user-handle-1`, `${prefix}rl:ip:${ip}`]);
    const ttl = await clientA.ttl(`${prefix}rl:ip:${ip}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
  });

  it('rejects at once (not a RateLimiterRes) while the client is not connected', async () => {
    const { Redis } = await import('ioredis');
    const down = new Redis({ host: '127.0.0.1', port: 1, enableOfflineQueue: true });
    down.on('error', () => {});
    try {
      const { perIp } = createRedisRateLimiters({ client: down, prefix });
      const error = perIp.consume('x').catch((e: unknown) => e);
      // Well under ioredis's default retries (many seconds) with the offline queue on. The bound is a
      // timer started after the call, not a stopwatch: a loaded machine makes it fire late, so it
      // cannot fail a rejection that needed no timer.
      let bound: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<'still pending after 800 ms'>((resolve) => {
        bound = setTimeout(() => resolve('still pending after 800 ms'), 800);
      });
      try {
        expect(await Promise.race([error, late])).toBeInstanceOf(Error);
      } finally {
        clearTimeout(bound);
      }
    } finally {
      down.disconnect();
    }
  });

  it('refuses invalid buckets', () => {
    expect(() =>
      createRedisRateLimiters({ client: clientA, perIp: { points: 0, durationSeconds: 1 } }),
    ).toThrow(RangeError);
    expect(() =>
      createRedisRateLimiters({ client: clientA, accountFailures: { points: 1, durationSeconds: 0.5 } }),
    ).toThrow(RangeError);
  });
});
