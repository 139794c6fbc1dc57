import type {
  AccountRepository,
  ChallengeStore,
  Counted,
  CountingStore,
  CredentialRepository,
  SignInReads,
} from '@passgate/core';
import type { Redis } from 'ioredis';
import { clientKeyPrefix } from './client.js';
import type { KeySpace } from './keys.js';
import type { ClassifyingRateLimiterRedis } from './rate-limiters.js';
import { CONSUME_FOR_SIGN_IN_COUNTED, PUT_COUNTED } from './scripts.js';
import { signInReads } from './sign-in-store.js';
import { guard } from './timeout.js';

export interface RedisCountingStoreOptions {
  /** A standalone (or Sentinel) client: the limiter's key and the challenge's are in different cluster slots. */
  client: Redis;
  keys: KeySpace;
  commandTimeoutMs: number;
  /** The per-IP limiter from `createRedisRateLimiters` on this same client, whose buckets this counts. */
  limiter: ClassifyingRateLimiterRedis;
  /** The stores this writes and reads (`CountingStore.readsFrom`). */
  readsFrom: { challenges: ChallengeStore; credentials: CredentialRepository; accounts: AccountRepository };
}

/**
 * The per-IP request count in the same Lua script as `login/options`'s challenge put and
 * `login/verify`'s consume-and-read: one round trip each instead of two. The bucket is the limiter's
 * own (its key, `points` and `duration`, counted by rate-limiter-flexible's own script text), so
 * requests counted here and by `limiter.consume` (registration, the application's own calls) share
 * one count. A refused request writes nothing but its count, as with the limiter.
 * Errors are classified as every store's are: an outage is `store_unavailable` (503), anything else
 * (`WRONGTYPE` on the limiter's key) propagates (500, logged): limits fail closed.
 */
export class RedisCountingStore implements CountingStore {
  readonly limiter: ClassifyingRateLimiterRedis;
  readonly readsFrom: RedisCountingStoreOptions['readsFrom'];
  readonly #client: Redis;
  readonly #keys: KeySpace;
  readonly #timeoutMs: number;
  readonly #bucket: [points: number, durationSeconds: number];
  readonly #accountKeyPrefix: string;

  constructor(options: RedisCountingStoreOptions) {
    this.limiter = options.limiter;
    this.readsFrom = options.readsFrom;
    this.#client = options.client;
    this.#keys = options.keys;
    this.#timeoutMs = options.commandTimeoutMs;
    this.#bucket = [options.limiter.points, options.limiter.duration];
    this.#accountKeyPrefix = `${clientKeyPrefix(options.client)}${options.keys.account('')}`;
  }

  putCounted(key: string, id: string, value: string, ttlMs: number): Promise<Counted<boolean>> {
    if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
      return Promise.reject(new RangeError('passgate: ttlMs must be a positive integer'));
    }
    return guard(this.#timeoutMs, async () => {
      const reply = (await PUT_COUNTED.run(
        this.#client,
        [this.limiter.getKey(key), this.#keys.challenge(id)],
        [...this.#bucket, value, ttlMs],
      )) as [string, number];
      return reply[0] === 'limited' ? limited(reply[1]) : { limited: false, value: reply[1] === 1 };
    });
  }

  consumeForSignInCounted(
    key: string,
    ceremonyId: string,
    credentialId: string,
  ): Promise<Counted<SignInReads>> {
    return guard(this.#timeoutMs, async () => {
      const reply = (await CONSUME_FOR_SIGN_IN_COUNTED.run(
        this.#client,
        [this.limiter.getKey(key), this.#keys.challenge(ceremonyId), this.#keys.credential(credentialId)],
        [...this.#bucket, this.#accountKeyPrefix],
      )) as [string, unknown, unknown, unknown];
      if (reply[0] === 'limited') return limited(reply[1] as number);
      return { limited: false, value: signInReads(reply[1], reply[2], reply[3]) };
    });
  }
}

function limited(msBeforeNext: number): Counted<never> {
  return { limited: true, msBeforeNext };
}
