import {
  createPassgate,
  type PassgateLogger,
  type PassgateOptions,
  type PassgateStores,
  silentLogger,
} from '@passgate/core';
import { type ContractResponse, createContractHandler } from '@passgate/core/http';
import { Redis } from 'ioredis';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { beforeAll, describe, expect, it } from 'vitest';
import { createKeySpace, createRedisRateLimiters, createRedisStores } from '../src/index.js';
import { connect, NO_RESEND, redisForFile, scanKeys } from './helpers.js';

/**
 * The per-IP count in the ceremonies' Lua scripts (`RedisCountingStore`), beyond the conformance
 * suite: when `createRedisStores` offers it, when the core uses it, and that its limit fails closed
 * as the limiter's does (an outage 503, a wrong key type 500, logged), through the HTTP contract.
 */
const { prefix, client } = redisForFile('counting');
const ORIGIN = 'https://example.test';
beforeAll(async () => {
  await client.ping();
});

function recordingLogger() {
  const errors: { message: string; fields: Record<string, unknown> | undefined }[] = [];
  const logger: PassgateLogger = {
    ...silentLogger,
    error: (message, fields) => errors.push({ message, fields }),
  };
  return { logger, errors };
}

function contract(stores: PassgateStores, rateLimits: PassgateOptions['rateLimits'], logger = silentLogger) {
  const passgate = createPassgate({
    rp: { name: 'counting', id: 'example.test', origins: [ORIGIN] },
    stores,
    secret: 'counting-test-secret-0123456789abcdef',
    logger,
    rateLimits,
  });
  const handler = createContractHandler(passgate);
  return async (path: string, ip: string, body: unknown = {}, ceremony?: string): Promise<ContractResponse> =>
    (await handler.handle({
      method: 'POST',
      path,
      headers: {
        origin: ORIGIN,
        'content-type': 'application/json',
        ...(ceremony ? { cookie: `passgate_ceremony=${ceremony}` } : {}),
      },
      protocol: 'https',
      ip,
      body: { kind: 'parsed', value: body },
      session: null,
    })) as ContractResponse;
}

const errorCode = (response: ContractResponse) =>
  (response.body as { error?: { code?: string } }).error?.code;
const setsCeremony = (response: ContractResponse) =>
  response.cookies.some((cookie) => cookie.startsWith('passgate_ceremony='));

describe('createRedisStores({ rateLimiters })', () => {
  it('offers counting for the per-IP limiter of createRedisRateLimiters on the same client, and only then', () => {
    const limiters = createRedisRateLimiters({ client, prefix });
    const stores = createRedisStores({ client, prefix, rateLimiters: limiters });
    expect(stores.counting?.limiter).toBe(limiters.perIp);
    expect(stores.counting?.readsFrom.challenges).toBe(stores.challenges);
    expect(createRedisStores({ client, prefix }).counting).toBeUndefined();

    const other = connect({ lazyConnect: true });
    try {
      expect(() =>
        createRedisStores({
          client,
          prefix,
          rateLimiters: createRedisRateLimiters({ client: other, prefix }),
        }),
      ).toThrow(TypeError);
    } finally {
      other.disconnect();
    }
    const foreign = new RateLimiterMemory({ points: 5, duration: 60 });
    expect(() => createRedisStores({ client, prefix, rateLimiters: { perIp: foreign as never } })).toThrow(
      TypeError,
    );
  });

  it('the core counts in the scripts only when its perIp is the stores’ limiter', async () => {
    const limiters = createRedisRateLimiters({ client, prefix, perIp: { points: 2, durationSeconds: 60 } });
    const stores = createRedisStores({ client, prefix, rateLimiters: limiters });
    const bucket = (ip: string) => client.get(`${prefix}rl:ip:${ip}`);

    // Another per-IP limiter (in memory): the stores' counting is not used, their bucket stays untouched.
    const inMemory = contract(stores, { perIp: { points: 1, durationSeconds: 60 } });
    expect((await inMemory('/login/options', '192.0.2.10')).status).toBe(200);
    expect((await inMemory('/login/options', '192.0.2.10')).status).toBe(429);
    expect(await bucket('192.0.2.10')).toBeNull();

    // The stores' own limiter: counted in Redis, in the script.
    const counted = contract(stores, limiters);
    expect((await counted('/login/options', '192.0.2.11')).status).toBe(200);
    expect(await bucket('192.0.2.11')).toBe('1');
  });
});

describe('the counted scripts: one bucket for every instance', () => {
  it('two instances (two clients) on one Redis share the per-IP count of login/options and login/verify', async () => {
    const other = connect();
    await other.ping();
    try {
      const instance = (c: Redis) => {
        const limiters = createRedisRateLimiters({
          client: c,
          prefix,
          perIp: { points: 3, durationSeconds: 60 },
        });
        return contract(createRedisStores({ client: c, prefix, rateLimiters: limiters }), limiters);
      };
      const [a, b] = [instance(client), instance(other)];
      const ip = '198.51.100.50';
      expect((await a('/login/options', ip)).status).toBe(200);
      expect((await b('/login/options', ip)).status).toBe(200);
      expect((await a('/login/options', ip)).status).toBe(200);
      const refused = await b('/login/options', ip);
      expect({ status: refused.status, code: errorCode(refused) }).toEqual({
        status: 429,
        code: 'rate_limited',
      });
      expect((await a('/login/verify', ip, {}, 'A'.repeat(43))).status).toBe(429);
      expect(await client.get(`${prefix}rl:ip:${ip}`)).toBe('5');
    } finally {
      other.disconnect();
    }
  });
});

describe('the counted scripts fail closed, as the limiter does', () => {
  it('WRONGTYPE on the limiter key: 500 internal_error (logged), nothing stored, the ceremony not consumed', async () => {
    const { logger, errors } = recordingLogger();
    const limiters = createRedisRateLimiters({ client, prefix });
    const stores = createRedisStores({ client, prefix, rateLimiters: limiters });
    const post = contract(stores, limiters, logger);
    // A pending sign-in ceremony, from an address whose bucket is fine.
    const options = await post('/login/options', '198.51.100.30');
    expect(options.status).toBe(200);
    const ceremony = /passgate_ceremony=([^;]+)/.exec(options.cookies.join('\n'))?.[1];
    expect(ceremony).toBeTruthy();

    // Another application's hash under Passgate's limiter key for this address.
    const ip = '198.51.100.31';
    await client.hset(`${prefix}rl:ip:${ip}`, 'not', 'a counter');
    // As a sorted set: SCAN's order (and, while the table rehashes, its duplicates) is not stable.
    const challenges = async () =>
      [...new Set(await scanKeys(client, createKeySpace(prefix).challenge('')))].sort();
    const before = await challenges();
    const refused = await post('/login/options', ip);
    expect({ status: refused.status, code: errorCode(refused) }).toEqual({
      status: 500,
      code: 'internal_error',
    });
    expect(setsCeremony(refused)).toBe(false);
    expect(await challenges(), 'no ceremony stored').toEqual(before);

    const verify = await post(
      '/login/verify',
      ip,
      {
        id: 'AAAA',
        rawId: 'AAAA',
        type: 'public-key',
        response: { clientDataJSON: 'e30', authenticatorData: 'AAAA', signature: 'AAAA' },
        clientExtensionResults: {},
      },
      ceremony,
    );
    expect({ status: verify.status, code: errorCode(verify) }).toEqual({
      status: 500,
      code: 'internal_error',
    });
    expect(
      await client.exists(createKeySpace(prefix).challenge(ceremony!)),
      'the ceremony is still pending',
    ).toBe(1);
    expect(
      errors.map((e) => [e.fields?.['operation'], String(e.fields?.['error']).includes('WRONGTYPE')]),
    ).toEqual([
      ['counting.putCounted', true],
      ['counting.consumeForSignInCounted', true],
    ]);
  });

  it('a Redis that cannot be reached: 503 store_unavailable on login/options and login/verify', async () => {
    const down = new Redis({
      host: '127.0.0.1',
      port: 1,
      enableOfflineQueue: false,
      lazyConnect: true,
      ...NO_RESEND,
    });
    down.on('error', () => {});
    try {
      const limiters = createRedisRateLimiters({ client: down, prefix });
      const stores = createRedisStores({
        client: down,
        prefix,
        commandTimeoutMs: 300,
        rateLimiters: limiters,
      });
      const post = contract(stores, limiters);
      const options = await post('/login/options', '198.51.100.40');
      expect({ status: options.status, code: errorCode(options) }).toEqual({
        status: 503,
        code: 'store_unavailable',
      });
      expect(setsCeremony(options)).toBe(false);
      const verify = await post(
        '/login/verify',
        '198.51.100.40',
        {
          id: 'AAAA',
          rawId: 'AAAA',
          type: 'public-key',
          response: { clientDataJSON: 'e30', authenticatorData: 'AAAA', signature: 'AAAA' },
          clientExtensionResults: {},
        },
        'A'.repeat(43),
      );
      expect({ status: verify.status, code: errorCode(verify) }).toEqual({
        status: 503,
        code: 'store_unavailable',
      });
    } finally {
      down.disconnect();
    }
  });
});
