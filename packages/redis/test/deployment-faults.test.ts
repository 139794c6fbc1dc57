import {
  createMemoryStores,
  createPassgate,
  isPassgateError,
  type PassgateLogger,
  silentLogger,
} from '@passgate/core';
import { describe, expect, it } from 'vitest';
import { createKeySpace, createRedisRateLimiters, createRedisStores } from '../src/index.js';
import { redisForFile } from './helpers.js';

/**
 * A Redis error that is not an outage (contract 1.1): a key of the wrong type (another application
 * writing under Passgate's prefix) is a deployment fault, answered `internal_error` (500), never
 * `store_unavailable` (503).
 */
const { prefix, client } = redisForFile('deployment-faults');

describe('Redis errors that are not outages', () => {
  it('WRONGTYPE: internal_error (500), not store_unavailable', async () => {
    await client.hset(createKeySpace(prefix).username('alice'), 'not', 'a string');
    const passgate = createPassgate({
      rp: { name: 'faults', id: 'example.test', origins: ['https://example.test'] },
      stores: createRedisStores({ client, prefix }),
      secret: 'deployment-fault-test-secret-0123456789',
      logger: silentLogger,
    });
    let error: unknown;
    try {
      await passgate.startAuthentication({ username: 'alice' });
    } catch (caught) {
      error = caught;
    }
    expect(isPassgateError(error) && { code: error.code, status: error.status }).toEqual({
      code: 'internal_error',
      status: 500,
    });
    // The service itself is fine: another username works.
    await expect(passgate.startAuthentication({ username: 'bob' })).resolves.toBeTruthy();
  });
});

describe('rate limiters on Redis: classified like the stores', () => {
  const recordingLogger = () => {
    const errors: { message: string; fields: Record<string, unknown> | undefined }[] = [];
    const logger: PassgateLogger = {
      ...silentLogger,
      error: (message, fields) => errors.push({ message, fields }),
    };
    return { logger, errors };
  };
  const limited = (rateLimits: ReturnType<typeof createRedisRateLimiters>, logger: PassgateLogger) =>
    createPassgate({
      rp: { name: 'faults', id: 'example.test', origins: ['https://example.test'] },
      stores: createMemoryStores(),
      secret: 'deployment-fault-test-secret-0123456789',
      logger,
      rateLimits,
    });
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => null,
      (error: unknown) => (isPassgateError(error) ? { code: error.code, status: error.status } : error),
    );

  it('WRONGTYPE on a limiter key: internal_error (500), logged; other keys still counted', async () => {
    const { logger, errors } = recordingLogger();
    const passgate = limited(createRedisRateLimiters({ client, prefix }), logger);
    // Another application's hash under Passgate's limiter key for this client address.
    await client.hset(`${prefix}rl:ip:198.51.100.23`, 'not', 'a counter');
    expect(await failure(passgate.consumeRequestLimit('198.51.100.23'))).toEqual({
      code: 'internal_error',
      status: 500,
    });
    expect(errors).toEqual([
      {
        message: 'passgate store call failed',
        fields: expect.objectContaining({
          operation: 'rate_limit_ip',
          error: expect.stringMatching(/WRONGTYPE/),
        }),
      },
    ]);
    expect(await failure(passgate.consumeRequestLimit('198.51.100.24'))).toBeNull();
  });

  it('a Redis that cannot be reached: store_unavailable (503)', async () => {
    const { Redis } = await import('ioredis');
    const down = new Redis({ host: '127.0.0.1', port: 1, enableOfflineQueue: false, lazyConnect: true });
    down.on('error', () => {});
    const { logger } = recordingLogger();
    const passgate = limited(createRedisRateLimiters({ client: down, prefix }), logger);
    try {
      expect(await failure(passgate.consumeRequestLimit('198.51.100.25'))).toEqual({
        code: 'store_unavailable',
        status: 503,
      });
    } finally {
      down.disconnect();
    }
  });
});
