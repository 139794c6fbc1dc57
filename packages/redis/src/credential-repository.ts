import { randomUUID } from 'node:crypto';
import {
  type CreateCredentialOptions,
  type CredentialRepository,
  type CredentialSignInUpdate,
  credentialExists,
  type DeleteCredentialResult,
  type StoredCredential,
  tooManyCredentials,
} from '@passgate/core';
import { clientKeyPrefix, type RedisClient } from './client.js';
import { bool, credentialFromHash, credentialToFields, ms, oldestFirst, pairsToHash } from './codec.js';
import type { KeySpace } from './keys.js';
import {
  CREATE_CREDENTIAL,
  DELETE_CREDENTIAL,
  LIST_CREDENTIALS,
  RENAME,
  UPDATE_AFTER_SIGN_IN,
} from './scripts.js';
import { guard } from './timeout.js';

export interface RedisCredentialRepositoryOptions {
  client: RedisClient;
  keys: KeySpace;
  commandTimeoutMs: number;
}

/**
 * Credentials as hashes (`…cred:<id>`) plus one sorted set per account (`…u:<userHandle>:creds`,
 * scored by `createdAt`). Every write is one Lua script, so uniqueness, ownership, the
 * compare-and-set on the counter and the last-credential rule are checked in the same atomic step
 * as the write. All keys share one hash tag (see `keys.ts`).
 */
export class RedisCredentialRepository implements CredentialRepository {
  readonly #client: RedisClient;
  readonly #keys: KeySpace;
  readonly #timeoutMs: number;
  /** The key of a credential without its id, for scripts that build it. */
  readonly #credentialKeyPrefix: string;

  constructor(options: RedisCredentialRepositoryOptions) {
    this.#client = options.client;
    this.#keys = options.keys;
    this.#timeoutMs = options.commandTimeoutMs;
    this.#credentialKeyPrefix = `${clientKeyPrefix(options.client)}${options.keys.credential('')}`;
  }

  async create(credential: StoredCredential, options: CreateCredentialOptions = {}): Promise<void> {
    // Encoded before the guard: a bad input (e.g. an invalid Date) is a plain error, not an outage.
    const args = [
      credential.id,
      ms(credential.createdAt),
      credential.userHandle,
      options.maxPerAccount ?? '',
      randomUUID(),
      ...credentialToFields(credential),
    ];
    const created = await guard(this.#timeoutMs, () =>
      CREATE_CREDENTIAL.run(
        this.#client,
        [this.#keys.credential(credential.id), this.#keys.accountCredentials(credential.userHandle)],
        args,
      ),
    );
    if (created === -1) throw tooManyCredentials();
    if (created !== 1) throw credentialExists();
  }

  async findById(id: string): Promise<StoredCredential | null> {
    const hash = await guard(this.#timeoutMs, () => this.#client.hgetall(this.#keys.credential(id)));
    return credentialFromHash(hash);
  }

  async listByUserHandle(userHandle: string): Promise<StoredCredential[]> {
    // One round trip (the set, then each hash, in one script); an empty set does the same work as
    // a set of one, so an account without passkeys, or a username without an account, costs what
    // one with passkeys does.
    const reply = await guard(this.#timeoutMs, () =>
      LIST_CREDENTIALS.run(
        this.#client,
        [this.#keys.accountCredentials(userHandle)],
        [this.#credentialKeyPrefix],
      ),
    );
    const hashes = (Array.isArray(reply) ? reply : []).map(pairsToHash);
    const credentials: StoredCredential[] = [];
    for (const hash of hashes) {
      const credential = credentialFromHash(hash);
      if (credential !== null && credential.userHandle === userHandle) credentials.push(credential);
    }
    // ZRANGE already orders by score (createdAt) then id; sorting again keeps the contract
    // independent of that detail.
    return credentials.sort(oldestFirst);
  }

  async updateAfterSignIn(update: CredentialSignInUpdate): Promise<StoredCredential | null> {
    const args = [
      update.expectedCounter,
      update.counter,
      bool(update.backedUp),
      ms(update.lastUsedAt),
      randomUUID(),
    ];
    const reply = await guard(this.#timeoutMs, () =>
      UPDATE_AFTER_SIGN_IN.run(this.#client, [this.#keys.credential(update.id)], args),
    );
    return reply === null ? null : credentialFromHash(pairsToHash(reply));
  }

  async rename(userHandle: string, id: string, nickname: string | null): Promise<StoredCredential | null> {
    const reply = await guard(this.#timeoutMs, () =>
      RENAME.run(
        this.#client,
        [this.#keys.credential(id)],
        [userHandle, nickname === null ? '0' : '1', nickname ?? ''],
      ),
    );
    return reply === null ? null : credentialFromHash(pairsToHash(reply));
  }

  async delete(
    userHandle: string,
    id: string,
    options: { allowLast: boolean },
  ): Promise<DeleteCredentialResult> {
    const reply = await guard(this.#timeoutMs, () =>
      DELETE_CREDENTIAL.run(
        this.#client,
        [this.#keys.credential(id), this.#keys.accountCredentials(userHandle)],
        [userHandle, id, bool(options.allowLast)],
      ),
    );
    if (reply === 'deleted' || reply === 'not_found' || reply === 'last_credential') return reply;
    throw new Error('unexpected reply from the delete script');
  }
}
