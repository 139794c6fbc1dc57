import type { PassgateStores } from '@passgate/core';
import type { Redis } from 'ioredis';
import { RedisAccountRepository } from './account-repository.js';
import { type ConsumeStrategy, RedisChallengeStore } from './challenge-store.js';
import { assertNoAutoResend, type RedisClient } from './client.js';
import { RedisCountingStore } from './counting-store.js';
import { RedisCredentialRepository } from './credential-repository.js';
import { createKeySpace, DEFAULT_PREFIX } from './keys.js';
import { ClassifyingRateLimiterRedis, type RedisRateLimiters } from './rate-limiters.js';
import { RedisSignInStore } from './sign-in-store.js';
import { DEFAULT_COMMAND_TIMEOUT_MS } from './timeout.js';

export { RedisAccountRepository } from './account-repository.js';
export type { ConsumeStrategy } from './challenge-store.js';
export { RedisChallengeStore } from './challenge-store.js';
export type { RedisClient } from './client.js';
export { RedisCountingStore } from './counting-store.js';
export { RedisCredentialRepository } from './credential-repository.js';
export type { KeySpace } from './keys.js';
export { createKeySpace, DEFAULT_PREFIX } from './keys.js';
export {
  createRedisRateLimiters,
  DEFAULT_ACCOUNT_FAILURES,
  DEFAULT_PER_IP,
  type RateLimitBucket,
  type RedisRateLimiters,
  type RedisRateLimitersOptions,
} from './rate-limiters.js';
export { RedisSignInStore } from './sign-in-store.js';
export {
  DEFAULT_COMMAND_TIMEOUT_MS,
  isUnavailable as isUnavailableError,
  RedisCommandTimeoutError,
} from './timeout.js';

export interface RedisStoresOptions {
  /**
   * The application's ioredis client, `Redis` (standalone or Sentinel) or `Cluster`. Passgate never
   * opens, closes or reconfigures a connection. It must be created with
   * `autoResendUnfulfilledCommands: false` (for a `Cluster`, in `redisOptions`), or
   * `createRedisStores` throws a `TypeError`: ioredis would otherwise run a write a second time
   * after a reconnect and hand back the second run's answer. For failing fast, also set
   * `enableOfflineQueue: false` or a small `maxRetriesPerRequest` (see the README).
   */
  client: RedisClient;
  /**
   * Prefix of every key. Default `'passgate:'`. Must not contain `{` or `}` (use `hashTag`).
   */
  prefix?: string;
  /**
   * Hash tag shared by every credential and account key, so that the scripts keeping them
   * consistent touch a single cluster slot. Default: the prefix without its trailing colons
   * (`'passgate'` → keys `passgate:{passgate}:cred:<id>`). Challenge keys never carry it.
   */
  hashTag?: string;
  /**
   * Longest time one store operation waits for Redis before rejecting with `store_unavailable`.
   * Default 1000 ms. Enforced with a timer of our own, whatever the client's settings.
   */
  commandTimeoutMs?: number;
  /** How challenges are consumed: `'auto'` (default; `GETDEL`, Lua on Redis < 6.2), `'getdel'` or `'lua'`. */
  consumeStrategy?: ConsumeStrategy;
  /**
   * The rate limiters the application gives `createPassgate` as `rateLimits`, from
   * `createRedisRateLimiters` on this same `client`. With them, on a standalone or Sentinel client,
   * the stores also carry `counting` (`RedisCountingStore`): `login/options` and `login/verify`
   * count the request against `perIp`'s bucket in the same Lua script as their challenge write or
   * consume, one round trip each instead of two. Same bucket, key and answers as the limiter's own
   * `consume`. Throws a `TypeError` for limiters not made by `createRedisRateLimiters` on `client`.
   * Ignored on a Cluster (the limiter's key and the challenge's are in different slots: the core
   * calls the limiter on its own there). Default: none (the limiter is called on its own).
   */
  rateLimiters?: Pick<RedisRateLimiters, 'perIp'>;
}

export interface RedisStores extends PassgateStores {
  challenges: RedisChallengeStore;
  credentials: RedisCredentialRepository;
  accounts: RedisAccountRepository;
  /** One Lua script for a sign-in verify's first reads; absent on a Cluster (its keys span slots). */
  signIn?: RedisSignInStore;
  /** The per-IP count in the ceremony's script; only with `rateLimiters`, absent on a Cluster. */
  counting?: RedisCountingStore;
}

/**
 * Passgate's three stores on the application's ioredis client.
 *
 * The challenge store is cluster-safe with no hot slot. The credential and account repositories
 * keep all their keys under one hash tag, i.e. in one cluster slot (see the README's cluster
 * notes); for a large deployment, keep challenges here and credentials/accounts in PostgreSQL.
 * On a standalone or Sentinel client the stores also carry `signIn` (`RedisSignInStore`): a
 * sign-in verify's ceremony, credential and account in one Lua script, one round trip; and, given
 * `rateLimiters`, `counting` (`RedisCountingStore`): the per-IP count in that script and in the
 * options' challenge put.
 *
 * Throws a `TypeError` when the client would re-send unanswered commands after a reconnect
 * (`autoResendUnfulfilledCommands` not `false`; see `RedisStoresOptions.client`). Constructing the
 * store classes directly skips that check: their callers must ensure it themselves.
 */
export function createRedisStores(options: RedisStoresOptions): RedisStores {
  const commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  if (!Number.isFinite(commandTimeoutMs) || commandTimeoutMs <= 0) {
    throw new RangeError('passgate: commandTimeoutMs must be a positive number');
  }
  assertNoAutoResend(options.client);
  const perIp = options.rateLimiters?.perIp;
  if (
    perIp !== undefined &&
    !(perIp instanceof ClassifyingRateLimiterRedis && perIp.redisClient === options.client)
  ) {
    throw new TypeError(
      'passgate: rateLimiters must come from createRedisRateLimiters on the same client as the stores',
    );
  }
  const counted = perIp as ClassifyingRateLimiterRedis | undefined;
  const keys = createKeySpace(options.prefix ?? DEFAULT_PREFIX, options.hashTag);
  const common = { client: options.client, keys, commandTimeoutMs };
  const stores = {
    challenges: new RedisChallengeStore({ ...common, consumeStrategy: options.consumeStrategy ?? 'auto' }),
    credentials: new RedisCredentialRepository(common),
    accounts: new RedisAccountRepository(common),
  };
  const client = options.client;
  // The challenge and the credential are in different slots on a Cluster: no single script there.
  if (client.isCluster) return stores;
  const standalone = { ...common, client: client as Redis, readsFrom: stores };
  return {
    ...stores,
    signIn: new RedisSignInStore(standalone),
    ...(counted ? { counting: new RedisCountingStore({ ...standalone, limiter: counted }) } : {}),
  };
}
