import { describeStorageAdapter, type StorageAdapterSuiteOptions } from '@passgate/testing/conformance';
import { Redis, type RedisOptions } from 'ioredis';
import { createRedisRateLimiters, createRedisStores } from '../src/index.js';
import { connect, deleteKeys, NO_RESEND, randomPrefix } from './helpers.js';

const prefix = randomPrefix('conformance');

/**
 * A closed port with ioredis's offline queue: the adapter's command timeout must answer, within the
 * suite's 2 s. `options`: more client settings.
 */
const unreachableWith =
  (options: RedisOptions = {}): StorageAdapterSuiteOptions['unreachable'] =>
  () => {
    const client = new Redis({
      host: '127.0.0.1',
      port: 1,
      enableOfflineQueue: true,
      ...NO_RESEND,
      ...options,
    });
    client.on('error', () => {});
    return {
      stores: createRedisStores({
        client,
        prefix,
        commandTimeoutMs: 300,
        rateLimiters: limiters(client, prefix),
      }),
      close: () => client.disconnect(),
    };
  };

/** The per-IP bucket the stores count in their scripts (`counting`): 5 points, so its tests are quick. */
const limiters = (client: Redis, keyPrefix: string) =>
  createRedisRateLimiters({ client, prefix: keyPrefix, perIp: { points: 5, durationSeconds: 60 } });

// No `misconfigured` hook: Redis has no schema to leave out (wrong key types are tested in errors.test.ts).
describeStorageAdapter(
  'redis',
  async () => {
    const client = connect();
    // The limiter rejects while its client is still connecting (rejectIfRedisNotReady).
    await client.ping();
    return {
      stores: createRedisStores({ client, prefix, rateLimiters: limiters(client, prefix) }),
      teardown: async () => {
        await deleteKeys(client, prefix);
        client.disconnect();
      },
    };
  },
  { unreachable: unreachableWith(), counting: true, renaming: true },
);

describeStorageAdapter(
  'redis (Lua consume)',
  async () => {
    const client = connect();
    const luaPrefix = `${prefix}lua:`;
    return {
      stores: createRedisStores({ client, prefix: luaPrefix, consumeStrategy: 'lua' }),
      teardown: async () => {
        await deleteKeys(client, luaPrefix);
        client.disconnect();
      },
    };
  },
  { renaming: true },
);

// ioredis's `enableAutoPipelining` (the demos turn it on): the commands of one event-loop turn go
// out as one pipeline. Every rule of the suite must hold through it, the outage included.
describeStorageAdapter(
  'redis (ioredis auto-pipelining)',
  async () => {
    const client = connect({ enableAutoPipelining: true });
    const pipelinedPrefix = `${prefix}auto:`;
    await client.ping();
    return {
      stores: createRedisStores({
        client,
        prefix: pipelinedPrefix,
        rateLimiters: limiters(client, pipelinedPrefix),
      }),
      teardown: async () => {
        await deleteKeys(client, pipelinedPrefix);
        client.disconnect();
      },
    };
  },
  {
    unreachable: unreachableWith({ enableAutoPipelining: true }),
    counting: true,
    renaming: true,
  },
);
