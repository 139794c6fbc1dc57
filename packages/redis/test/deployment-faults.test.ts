import { createPassgate, isPassgateError, silentLogger } from '@passgate/core';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeySpace, createRedisStores } from '../src/index.js';
import { connect, deleteKeys, randomPrefix } from './helpers.js';

/**
 * A Redis error that is not an outage (contract 1.1): a key of the wrong type (another application
 * writing under Passgate's prefix) is a deployment fault, answered `internal_error` (500), never
 * `store_unavailable` (503).
 */
const prefix = randomPrefix('deployment-faults');
let client: Redis;
beforeAll(() => {
  client = connect();
});
afterAll(async () => {
  await deleteKeys(client, prefix);
  client.disconnect();
});

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
