import type {
  AccountRepository,
  ChallengeStore,
  CredentialRepository,
  SignInReads,
  SignInStore,
  StoredCredential,
  UsernameReads,
} from '@passgate/core';
import type { Redis } from 'ioredis';
import { clientKeyPrefix } from './client.js';
import { accountFromHash, credentialFromHash, oldestFirst, pairsToHash } from './codec.js';
import type { KeySpace } from './keys.js';
import { CONSUME_FOR_SIGN_IN, FIND_FOR_SIGN_IN } from './scripts.js';
import { guard } from './timeout.js';

export interface RedisSignInStoreOptions {
  /** A standalone (or Sentinel) client: the script's keys are in different cluster slots. */
  client: Redis;
  keys: KeySpace;
  commandTimeoutMs: number;
  /** The stores this reads through (`SignInStore.readsFrom`). */
  readsFrom: { challenges: ChallengeStore; credentials: CredentialRepository; accounts: AccountRepository };
}

/**
 * A sign-in verify's first reads (consume the challenge, read the credential and its account) as
 * one Lua script: one round trip instead of three, atomic, so the account is the credential's owner
 * as the script read it.
 */
export class RedisSignInStore implements SignInStore {
  readonly readsFrom: RedisSignInStoreOptions['readsFrom'];
  readonly #client: Redis;
  readonly #keys: KeySpace;
  readonly #timeoutMs: number;
  readonly #accountKeyPrefix: string;
  readonly #credentialKeyPrefix: string;
  readonly #credentialSetSuffix: string;

  constructor(options: RedisSignInStoreOptions) {
    this.readsFrom = options.readsFrom;
    this.#client = options.client;
    this.#keys = options.keys;
    this.#timeoutMs = options.commandTimeoutMs;
    const keyPrefix = clientKeyPrefix(options.client);
    this.#accountKeyPrefix = `${keyPrefix}${options.keys.account('')}`;
    this.#credentialKeyPrefix = `${keyPrefix}${options.keys.credential('')}`;
    // accountCredentials(h) is account(h) plus this suffix (`:creds`).
    this.#credentialSetSuffix = options.keys.accountCredentials('h').slice(options.keys.account('h').length);
  }

  async consumeForSignIn(ceremonyId: string, credentialId: string): Promise<SignInReads> {
    const reply = await guard(this.#timeoutMs, () =>
      CONSUME_FOR_SIGN_IN.run(
        this.#client,
        [this.#keys.challenge(ceremonyId), this.#keys.credential(credentialId)],
        [this.#accountKeyPrefix],
      ),
    );
    const [ceremony, credentialPairs, accountPairs] = reply as [unknown, unknown, unknown];
    return signInReads(ceremony, credentialPairs, accountPairs);
  }

  async findForSignIn(username: string, standInHandle: string): Promise<UsernameReads> {
    const reply = await guard(this.#timeoutMs, () =>
      FIND_FOR_SIGN_IN.run(
        this.#client,
        [this.#keys.username(username)],
        [this.#accountKeyPrefix, this.#credentialKeyPrefix, this.#credentialSetSuffix, standInHandle],
      ),
    );
    const [accountPairs, hashes] = reply as [unknown, unknown];
    const account = accountFromHash(pairsToHash(accountPairs));
    if (account === null || account.username !== username) return { account: null, credentials: [] };
    const credentials: StoredCredential[] = [];
    for (const pairs of Array.isArray(hashes) ? hashes : []) {
      const credential = credentialFromHash(pairsToHash(pairs));
      if (credential !== null && credential.userHandle === account.userHandle) credentials.push(credential);
    }
    return { account, credentials: credentials.sort(oldestFirst) };
  }
}

/** `SignInReads` from a script's reply: the challenge value, the credential's and the account's HGETALL pairs. */
export function signInReads(ceremony: unknown, credentialPairs: unknown, accountPairs: unknown): SignInReads {
  const credential = credentialFromHash(pairsToHash(credentialPairs));
  const account = credential === null ? null : accountFromHash(pairsToHash(accountPairs));
  return { ceremony: typeof ceremony === 'string' ? ceremony : null, credential, account };
}
