import type { ChallengeStore } from '@passgate/core';
import type { RedisClient } from './client.js';
import type { KeySpace } from './keys.js';
import { CONSUME } from './scripts.js';
import { guard } from './timeout.js';

/**
 * How `consume` removes a challenge:
 * - `'auto'` (default): `GETDEL`; the first time the server answers "unknown command" (Redis
 *   < 6.2) switch to the Lua script for the life of this store. A failure of any other kind
 *   (outage, timeout) never changes the choice.
 * - `'getdel'`: always `GETDEL` (Redis >= 6.2).
 * - `'lua'`: always the `GET` + `DEL` Lua script.
 */
export type ConsumeStrategy = 'auto' | 'getdel' | 'lua';

export interface RedisChallengeStoreOptions {
  client: RedisClient;
  keys: KeySpace;
  commandTimeoutMs: number;
  consumeStrategy?: ConsumeStrategy;
}

/**
 * Pending ceremonies as plain Redis strings with a millisecond TTL (`SET ... PX ttl NX`), so
 * expiry is decided by Redis's clock and an abandoned ceremony costs nothing after its TTL.
 * Each operation touches one key, so this store is cluster-safe and spreads over all slots.
 *
 * `put` is safe to run twice (a key already holding the same value answers `true`); `consume`
 * cannot be, which is one reason `createRedisStores` refuses a client with
 * `autoResendUnfulfilledCommands` on.
 */
export class RedisChallengeStore implements ChallengeStore {
  readonly #client: RedisClient;
  readonly #keys: KeySpace;
  readonly #timeoutMs: number;
  #useLua: boolean;
  readonly #strategy: ConsumeStrategy;

  constructor(options: RedisChallengeStoreOptions) {
    this.#client = options.client;
    this.#keys = options.keys;
    this.#timeoutMs = options.commandTimeoutMs;
    this.#strategy = options.consumeStrategy ?? 'auto';
    this.#useLua = this.#strategy === 'lua';
  }

  /** Whether `consume` currently uses the Lua fallback (for diagnostics and tests). */
  get usesLuaConsume(): boolean {
    return this.#useLua;
  }

  put(id: string, value: string, ttlMs: number): Promise<boolean> {
    if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
      return Promise.reject(new RangeError('passgate: ttlMs must be a positive integer'));
    }
    const key = this.#keys.challenge(id);
    return guard(this.#timeoutMs, async () => {
      if ((await this.#client.set(key, value, 'PX', ttlMs, 'NX')) === 'OK') return true;
      // Taken. If it holds exactly our value, it is our own write, run a second time (its first
      // reply lost to a dropped connection): that put succeeded. Ceremony ids are random, so
      // another ceremony never holds the same id and value.
      return (await this.#client.get(key)) === value;
    });
  }

  consume(id: string): Promise<string | null> {
    const key = this.#keys.challenge(id);
    return guard(this.#timeoutMs, async () => {
      if (!this.#useLua) {
        try {
          return await this.#client.getdel(key);
        } catch (error) {
          if (this.#strategy !== 'auto' || !isUnknownCommand(error)) throw error;
          this.#useLua = true;
        }
      }
      const reply = await CONSUME.run(this.#client, [key], []);
      return typeof reply === 'string' ? reply : null;
    });
  }
}

function isUnknownCommand(error: unknown): boolean {
  return error instanceof Error && /unknown command/i.test(error.message) && /getdel/i.test(error.message);
}
