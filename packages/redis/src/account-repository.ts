import {
  type Account,
  type AccountRepository,
  credentialExists,
  type StoredCredential,
  usernameTaken,
} from '@passgate/core';
import type { RedisClient } from './client.js';
import { accountFromHash, accountToFields, credentialToFields, ms } from './codec.js';
import type { KeySpace } from './keys.js';
import { CREATE_ACCOUNT } from './scripts.js';
import { guard } from './timeout.js';

export interface RedisAccountRepositoryOptions {
  client: RedisClient;
  keys: KeySpace;
  commandTimeoutMs: number;
}

/**
 * Accounts as hashes keyed by user handle (`…u:<userHandle>`) with two uniqueness indexes,
 * `…username:<username>` and `…userid:<userId>`, each holding the user handle. `create` writes the
 * account, both indexes and the first credential in one Lua script after checking every
 * uniqueness rule, so it is all or nothing.
 */
export class RedisAccountRepository implements AccountRepository {
  readonly #client: RedisClient;
  readonly #keys: KeySpace;
  readonly #timeoutMs: number;

  constructor(options: RedisAccountRepositoryOptions) {
    this.#client = options.client;
    this.#keys = options.keys;
    this.#timeoutMs = options.commandTimeoutMs;
  }

  async findByUserHandle(userHandle: string): Promise<Account | null> {
    const hash = await guard(this.#timeoutMs, () => this.#client.hgetall(this.#keys.account(userHandle)));
    return accountFromHash(hash);
  }

  findByUserId(userId: string): Promise<Account | null> {
    return this.#findByIndex(this.#keys.userId(userId), (account) => account.userId === userId);
  }

  findByUsername(username: string): Promise<Account | null> {
    return this.#findByIndex(this.#keys.username(username), (account) => account.username === username);
  }

  async create(account: Account, firstCredential: StoredCredential): Promise<void> {
    if (firstCredential.userHandle !== account.userHandle) {
      throw new Error("the first credential's userHandle differs from the account's");
    }
    const accountFields = accountToFields(account);
    const credentialFields = credentialToFields(firstCredential);
    const createdAt = ms(firstCredential.createdAt);
    const reply = await guard(this.#timeoutMs, () =>
      CREATE_ACCOUNT.run(
        this.#client,
        [
          this.#keys.username(account.username),
          this.#keys.userId(account.userId),
          this.#keys.account(account.userHandle),
          this.#keys.accountCredentials(account.userHandle),
          this.#keys.credential(firstCredential.id),
        ],
        [
          account.userHandle,
          firstCredential.id,
          createdAt,
          accountFields.length,
          ...accountFields,
          ...credentialFields,
        ],
      ),
    );
    switch (reply) {
      case 'ok':
        return;
      case 'username_taken':
        throw usernameTaken();
      case 'credential_exists':
        throw credentialExists();
      case 'user_handle_exists':
        throw new Error('an account with this user handle already exists');
      case 'user_id_exists':
        throw new Error('an account with this user id already exists');
      default:
        throw new Error('unexpected reply from the create-account script');
    }
  }

  async #findByIndex(indexKey: string, matches: (account: Account) => boolean): Promise<Account | null> {
    const hash = await guard(this.#timeoutMs, async () => {
      const userHandle = await this.#client.get(indexKey);
      return userHandle === null ? null : await this.#client.hgetall(this.#keys.account(userHandle));
    });
    if (hash === null) return null;
    const account = accountFromHash(hash);
    return account !== null && matches(account) ? account : null;
  }
}
