import { DEFAULTS, type RateLimitBucket, storeUnavailable } from '@passgate/core';
import { RateLimiterRedis, type RateLimiterRes } from 'rate-limiter-flexible';
import type { RedisClient } from './client.js';
import { DEFAULT_PREFIX } from './keys.js';
import { isUnavailable } from './timeout.js';

/** A fixed-window bucket: at most `points` per `durationSeconds` (the core's own type). */
export type { RateLimitBucket };

export interface RedisRateLimitersOptions {
  /** The application's ioredis client (`Redis` or `Cluster`); never connected or closed here. */
  client: RedisClient;
  /** Key prefix. Default `'passgate:'`; keys are `{prefix}rl:ip:<ip>` and `{prefix}rl:acct:<key>`. */
  prefix?: string;
  /** Requests per client IP. Default 60 points per 60 s. */
  perIp?: RateLimitBucket;
  /** Failed sign-ins per account. Default 10 points per 900 s. */
  accountFailures?: RateLimitBucket;
}

export interface RedisRateLimiters {
  perIp: RateLimiterRedis;
  accountFailures: RateLimiterRedis;
}

/** The core's defaults (`DEFAULTS.perIp`, `DEFAULTS.accountFailures`), so the two never drift. */
export const DEFAULT_PER_IP: RateLimitBucket = DEFAULTS.perIp;
export const DEFAULT_ACCOUNT_FAILURES: RateLimitBucket = DEFAULTS.accountFailures;

/**
 * The core's two rate-limit buckets on Redis, so every instance of the application shares the
 * counts. Each counter is one key with a TTL (the bucket's duration), updated by
 * rate-limiter-flexible's own atomic Lua script, so it is cluster-safe with no hot slot.
 *
 * `rejectIfRedisNotReady` is on: while the client is not connected, `consume` rejects at once
 * instead of queueing. `consume` classifies its errors as the stores do (`isUnavailable`): an outage
 * (not connected, a closed connection, a command timeout, a transient server state) rejects with
 * `store_unavailable`, which the core answers 503; anything else (`WRONGTYPE` on a limiter key,
 * `NOPERM`) rejects unchanged, which the core answers `500 internal_error` and logs.
 * Note that rate-limiter-flexible registers a script command (`rlflxIncr`) on the client.
 */
export function createRedisRateLimiters(options: RedisRateLimitersOptions): RedisRateLimiters {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const perIp = options.perIp ?? DEFAULT_PER_IP;
  const accountFailures = options.accountFailures ?? DEFAULT_ACCOUNT_FAILURES;
  const make = (name: string, bucket: RateLimitBucket): RateLimiterRedis => {
    if (!Number.isSafeInteger(bucket.points) || bucket.points <= 0) {
      throw new RangeError(`passgate: ${name}.points must be a positive integer`);
    }
    if (!Number.isSafeInteger(bucket.durationSeconds) || bucket.durationSeconds <= 0) {
      throw new RangeError(`passgate: ${name}.durationSeconds must be a positive integer`);
    }
    return new ClassifyingRateLimiterRedis({
      storeClient: options.client,
      keyPrefix: `${prefix}rl:${name === 'perIp' ? 'ip' : 'acct'}`,
      points: bucket.points,
      duration: bucket.durationSeconds,
      rejectIfRedisNotReady: true,
    });
  };
  return { perIp: make('perIp', perIp), accountFailures: make('accountFailures', accountFailures) };
}

/**
 * `RateLimiterRedis` whose `consume` marks Redis outages with `storeUnavailable` (see above). It
 * remembers its client, so `createRedisStores` can tell that its buckets are on the stores' server
 * and count requests in the stores' own scripts (`RedisCountingStore`).
 */
export class ClassifyingRateLimiterRedis extends RateLimiterRedis {
  readonly redisClient: RedisClient;

  constructor(options: ConstructorParameters<typeof RateLimiterRedis>[0] & { storeClient: RedisClient }) {
    super(options);
    this.redisClient = options.storeClient;
  }

  override async consume(
    key: string | number,
    pointsToConsume?: number,
    options?: { [key: string]: unknown },
  ): Promise<RateLimiterRes> {
    try {
      return await super.consume(key, pointsToConsume, options);
    } catch (error) {
      throw isUnavailable(error) ? storeUnavailable(error) : error;
    }
  }
}
