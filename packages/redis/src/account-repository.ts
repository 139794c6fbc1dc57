import { randomUUID } from 'node:crypto';
import {
  type Account,
  type AccountRename,
  type AccountRepository,
  credentialExists,
  type StoredCredential,
  usernameTaken,
} from '@passgate/core';
import { clientKeyPrefix, type RedisClient } from './client.js';
import { accountFromHash, accountToFields, credentialToFields, ms, pairsToHash } from './codec.js';
import type { KeySpace } from './keys.js';
import { CREATE_ACCOUNT, DELETE_ACCOUNT, FIND_ACCOUNT_BY_INDEX, RENAME_ACCOUNT } from './scripts.js';
import { guard } from './timeout.js';

/** Reads-then-deletes tried before giving up on an account whose credentials keep changing. */
const MAX_DELETE_ATTEMPTS = 5;

export interface RedisAccountRepositoryOptions {
  client: RedisClient;
  keys: KeySpace;
  commandTimeoutMs: number;
}

/**
 * Accounts as hashes keyed by user handle (`…u:<userHandle>`) with two uniqueness indexes,
 * `…username:<username>` and `…userid:<userId>`, each holding the user handle. `create` writes the
 * account, both indexes and the first credential in one Lua script after checking every
 * uniqueness rule, so it is all or nothing; `rename` moves the username and its index entry in one
 * script too.
 */
export class RedisAccountRepository implements AccountRepository {
  readonly #client: RedisClient;
  readonly #keys: KeySpace;
  readonly #timeoutMs: number;
  /** The key of an account without its user handle, for scripts that build it. */
  readonly #accountKeyPrefix: string;
  /** The key of a username's index entry without the username, for the rename script. */
  readonly #usernameKeyPrefix: string;

  constructor(options: RedisAccountRepositoryOptions) {
    this.#client = options.client;
    this.#keys = options.keys;
    this.#timeoutMs = options.commandTimeoutMs;
    this.#accountKeyPrefix = `${clientKeyPrefix(options.client)}${options.keys.account('')}`;
    this.#usernameKeyPrefix = `${clientKeyPrefix(options.client)}${options.keys.username('')}`;
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
          randomUUID(),
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

  async delete(userHandle: string): Promise<string[] | null> {
    // Optimistic: read what to delete, then delete it only if it is still exactly that. A credential
    // added or removed in between makes the script change nothing, and we read again.
    for (let attempt = 0; attempt < MAX_DELETE_ATTEMPTS; attempt++) {
      const account = await this.findByUserHandle(userHandle);
      if (account === null) return null;
      const ids = await guard(this.#timeoutMs, () =>
        this.#client.zrange(this.#keys.accountCredentials(userHandle), 0, '-1'),
      );
      const reply = await guard(this.#timeoutMs, () =>
        DELETE_ACCOUNT.run(
          this.#client,
          [
            this.#keys.account(userHandle),
            this.#keys.accountCredentials(userHandle),
            this.#keys.username(account.username),
            this.#keys.userId(account.userId),
            ...ids.map((id) => this.#keys.credential(id)),
          ],
          [userHandle, account.username, account.userId, ...ids],
        ),
      );
      if (reply === 'deleted') return ids;
      if (reply === 'not_found') return null;
      if (reply !== 'changed') throw new Error('unexpected reply from the delete-account script');
    }
    throw new Error('the account kept changing while it was being deleted');
  }

  async rename(userHandle: string, rename: AccountRename): Promise<Account | null> {
    const { username, displayName, expectedUsername } = rename;
    const reply = await guard(this.#timeoutMs, () =>
      RENAME_ACCOUNT.run(
        this.#client,
        [this.#keys.account(userHandle), this.#keys.username(username)],
        [
          userHandle,
          username,
          this.#usernameKeyPrefix,
          expectedUsername === undefined ? '0' : '1',
          expectedUsername ?? '',
          displayName === undefined ? '0' : '1',
          displayName ?? '',
        ],
      ),
    );
    if (reply === null) return null;
    if (reply === 'username_taken') throw usernameTaken();
    const account = accountFromHash(pairsToHash(reply));
    if (account === null) throw new Error('unexpected reply from the rename-account script');
    return account;
  }

  async #findByIndex(indexKey: string, matches: (account: Account) => boolean): Promise<Account | null> {
    // One round trip; a miss does the same work as a hit (see the script).
    const reply = await guard(this.#timeoutMs, () =>
      FIND_ACCOUNT_BY_INDEX.run(this.#client, [indexKey], [this.#accountKeyPrefix]),
    );
    const account = accountFromHash(pairsToHash(reply));
    return account !== null && matches(account) ? account : null;
  }
}
