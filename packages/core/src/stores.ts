import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Account, StoredCredential } from './types.js';

/**
 * The three storage interfaces. Every adapter (in-memory, Redis, PostgreSQL, or one of your own)
 * implements them and runs `describeStorageAdapter` from `@passgate/testing/conformance` to prove it.
 *
 * Rules common to every method (`docs/custom-adapters.md` explains each, with the failure it prevents):
 * - Failures to reach the store (connection refused, timeout, failover) reject with the core's
 *   `store_unavailable` error (`storeUnavailable(cause)` from `@passgate/core`) within a bounded time
 *   that the adapter documents and lets the application set (a few seconds at most; the conformance
 *   suite's `unavailableWithinMs`, 2 s by default): the ceremony fails closed on it and the contract
 *   answers 503. Never resolve a default (`null`, `[]`, `false`) instead, and never wait unbounded.
 * - Any other error of the store (a missing table, a wrong key type, a permission error: a deployment
 *   fault) rejects with that error, never with `store_unavailable` (the contract answers
 *   `500 internal_error` and logs it), and never resolves a default either. (As a safety net the core
 *   also treats a plain error with a Node.js network code, such as `ECONNREFUSED`, as an outage.)
 * - A rejected write leaves nothing behind (no half-written rows, keys or index entries).
 * - Ids (credential ids, user handles) are canonical base64url strings (the core checks them before
 *   any store call), so an adapter may keep them as the bytes they decode to. They are compared over
 *   their full length (up to 1364 characters for a 1023-byte credential id), case-sensitively: an id
 *   that is a prefix of another, or differs only in case or in its last character, is another id.
 * - Every other string is compared exactly, code unit for code unit: usernames and user ids too (no
 *   case folding, accent folding, trimming or Unicode normalisation in the store; the core
 *   normalises usernames before calling, so `"Alice"` and `"alice"` are two accounts unless the
 *   application's `normalizeUsername` folds case).
 * - Values round-trip exactly: strings are arbitrary Unicode, kept as given (never normalised or
 *   trimmed), `Uint8Array`s are byte-exact, `Date`s keep millisecond precision.
 * - Inputs are copied: a store never keeps a caller's object (credential, account, `Date`, array) by
 *   reference, so mutating it after the call changes nothing stored. Returned objects are fresh
 *   copies that the caller may mutate.
 * - When several outcomes apply to one call, the order given in the method's comment decides which
 *   one answers.
 */

/**
 * Pending ceremony state, keyed by an opaque random ceremony id (the cookie value).
 *
 * Values are opaque strings (JSON written by the core), at most 64 KiB of UTF-8.
 * Expiry is decided by the store's own clock (the database's or Redis's time), never by the calling
 * process's `Date.now()`: application servers' clocks differ, and a challenge put by one and consumed
 * by another must live exactly its TTL. A store that deletes expired entries lazily (DynamoDB's TTL,
 * a periodic sweep) must still check the expiry on every read.
 */
export interface ChallengeStore {
  /**
   * Keeps `value` under `id` for `ttlMs` milliseconds, an integer from 1 to 3 600 000 (one hour,
   * the core's longest challenge TTL). The value is pending from the call for `ttlMs` and then
   * expires: no earlier, and no later than the store's timer resolution allows (milliseconds; never
   * rounded to whole seconds, capped, or stretched).
   * Resolves `true` when stored, `false` when `id` is already pending (the existing value is kept:
   * a pending ceremony can never be overwritten). An expired id is not pending, so `put` on it
   * resolves `true` and stores the new value. Of concurrent puts on one id exactly one resolves `true`.
   */
  put(id: string, value: string, ttlMs: number): Promise<boolean>;

  /**
   * Removes and returns the value under `id`, or resolves `null` when there is none (never stored,
   * already consumed, or expired). Atomic and single-use: of any number of concurrent calls for one
   * id, across every process sharing the store, at most one resolves the value.
   */
  consume(id: string): Promise<string | null>;
}

/** Outcome of `CredentialRepository.delete`. */
export type DeleteCredentialResult = 'deleted' | 'not_found' | 'last_credential';

/** The change a successful sign-in makes to a credential, applied by compare-and-set on the counter. */
export interface CredentialSignInUpdate {
  id: string;
  /** The counter value the caller read; the update applies only if the stored counter still equals it. */
  expectedCounter: number;
  counter: number;
  backedUp: boolean;
  lastUsedAt: Date;
}

/** Options of `CredentialRepository.create`. */
export interface CreateCredentialOptions {
  /**
   * The most credentials the account may hold once this one is added (a positive integer). When
   * given, `create` rejects with `too_many_credentials` (`tooManyCredentials()`) if the account
   * already holds this many, and writes nothing then. Omitted: no cap.
   */
  maxPerAccount?: number;
}

/** Passkeys, one row per credential, owned by an account through `userHandle`. */
export interface CredentialRepository {
  /**
   * Stores a new credential (for an account that already exists).
   * Rejects with `credential_exists` (`credentialExists()`) when a credential with this id exists
   * under any account, and writes nothing then. Atomic with respect to concurrent creates of the
   * same id: exactly one of them resolves. `credential_exists` wins over `too_many_credentials` when
   * both apply. A second create of the very same credential (same owner, `createdAt` and every
   * field) is another call and rejects too: an adapter that makes its write safe to run twice
   * recognises a re-sent command by a token unique to the call, as for `updateAfterSignIn`.
   *
   * `options.maxPerAccount` is enforced in the same atomic step as the insert (never a count read
   * before a separate write): of concurrent creates for an account holding `maxPerAccount - 1`
   * credentials, across every process sharing the store, exactly one resolves and the others reject
   * with `too_many_credentials`.
   */
  create(credential: StoredCredential, options?: CreateCredentialOptions): Promise<void>;

  /** The credential with this id, or `null`. */
  findById(id: string): Promise<StoredCredential | null>;

  /**
   * Every credential of the account (its user handle compared over its full length), oldest first:
   * by `createdAt`, and on equal `createdAt` by `id` in UTF-16 code-unit order, which for base64url
   * is ASCII order (`-` < `0`–`9` < `A`–`Z` < `_` < `a`–`z`; not a case-insensitive or locale
   * collation, not insertion order). `[]` for none. A deleted credential is never listed, also when
   * its id was registered again by another account.
   */
  listByUserHandle(userHandle: string): Promise<StoredCredential[]>;

  /**
   * Compare-and-set after a verified sign-in: when the stored counter equals `expectedCounter`,
   * sets `counter`, `backedUp` and `lastUsedAt` and resolves the updated credential; otherwise
   * (counter moved meanwhile, or no such credential) changes nothing and resolves `null`.
   * Atomic: of concurrent updates with the same `expectedCounter` at most one applies when
   * `counter !== expectedCounter`. An update with `counter === expectedCounter` (authenticators that
   * always send 0) applies whenever the stored counter matches, also when it changes no stored value
   * (same `backedUp` and `lastUsedAt`) and also concurrently: "applied" means the counter matched,
   * not that a row changed (mind databases that report changed rather than matched rows).
   *
   * Each call is one attempt, judged on its own: a second call with the same `expectedCounter`
   * (and `counter !== expectedCounter`) after the first applied resolves `null`, even when it
   * carries the very same `counter`, `backedUp` and `lastUsedAt` (two assertions with one counter
   * in the same millisecond are a clone, not a retry). An adapter that makes its write safe to run
   * twice (a command re-sent after a lost reply) must recognise the re-sent command by a token
   * unique to the call, never by comparing the stored values with the update's.
   */
  updateAfterSignIn(update: CredentialSignInUpdate): Promise<StoredCredential | null>;

  /**
   * Sets the nickname (`null` clears it) of credential `id` if `userHandle` owns it, and resolves the
   * updated credential; resolves `null` (changing nothing) when it does not exist or is another
   * account's. Ownership is checked in the same operation as the write (one conditional write, not a
   * read then a write): a credential deleted and registered again by another account meanwhile is
   * never renamed. `nickname` is kept exactly (no trimming or normalisation).
   */
  rename(userHandle: string, id: string, nickname: string | null): Promise<StoredCredential | null>;

  /**
   * Deletes credential `id` if `userHandle` owns it. The first of these that applies answers:
   * - `'not_found'`: no such credential, or another account's (nothing changes), whatever
   *   `allowLast` is and however many credentials the caller's account holds.
   * - `'last_credential'`: it is the account's only credential and `allowLast` is false (nothing changes).
   * - `'deleted'`: it is gone, and so is every index entry that pointed at it.
   * Atomic per account: concurrent deletes of an account's last two credentials with
   * `allowLast: false` never leave it with none, and of concurrent deletes of one credential exactly
   * one resolves `'deleted'`. Ownership is checked in the same operation as the delete, as for
   * `rename`.
   */
  delete(userHandle: string, id: string, options: { allowLast: boolean }): Promise<DeleteCredentialResult>;
}

/** Accounts: the mapping between the application's user id, the WebAuthn user handle and the username. */
export interface AccountRepository {
  findByUserHandle(userHandle: string): Promise<Account | null>;
  findByUserId(userId: string): Promise<Account | null>;
  /**
   * Exact match on the canonical username (the core normalises before calling): code unit for code
   * unit, no case or accent folding, no Unicode normalisation, no trimming.
   */
  findByUsername(username: string): Promise<Account | null>;

  /**
   * Creates the account together with its first credential, all or nothing (sign-up).
   * Rejects, the first that applies answering: with `username_taken` (`usernameTaken()`) when the
   * username exists, with `credential_exists` when the credential id exists, and with a plain
   * `Error` (no Passgate code) when the user handle or user id exists (random values; a collision
   * is a bug). On any rejection nothing is written. Of concurrent creates with the same username
   * exactly one resolves, and likewise for the same credential id. A second create with the very
   * same account and credential is another call and rejects (`username_taken`), as for
   * `CredentialRepository.create`. Both objects are copied.
   *
   * `firstCredential.userHandle` equals `account.userHandle`.
   * The credential lands in the same storage that this adapter's `CredentialRepository` reads, so an
   * adapter implements both interfaces together.
   */
  create(account: Account, firstCredential: StoredCredential): Promise<void>;

  /**
   * Deletes the account with this user handle together with every credential it owns, all or
   * nothing, and frees its username, user id and credential ids for reuse. Resolves the ids of the
   * credentials deleted (any order; `[]` when it had none), or `null` when no account has this user
   * handle (nothing changes then). Of concurrent deletes of one account exactly one resolves the ids.
   * Used when the application deletes a user or removes their passkey account.
   */
  delete(userHandle: string): Promise<string[] | null>;

  /**
   * Optional (adapters written before it keep working without it; the core then leaves stored names as
   * they were first stored). Renames the account with this user handle: its username becomes
   * `rename.username`, and its display name `rename.displayName` when given. The username index moves
   * in the same atomic step: from then on `findByUsername` finds the account by the new name only, and
   * the old name is free at once (a `create` or `rename` may take it).
   *
   * The first of these that applies answers:
   * - resolves `null`, changing nothing, when no account has this user handle, or when
   *   `rename.expectedUsername` is given and the stored username is neither it nor `rename.username`
   *   (renamed meanwhile: a compare-and-set, so a rename based on a stale read never applies);
   * - rejects with `username_taken` (`usernameTaken()`) when another account holds `rename.username`,
   *   changing nothing;
   * - resolves the account as stored afterwards (a fresh copy), also when its username already was
   *   `rename.username` (then only the display name may change). Its user id, user handle, `createdAt`
   *   and credentials stay as they were.
   *
   * Atomic with respect to every other write, across every process sharing the store: of concurrent
   * renames and creates claiming one username, exactly one resolves and the others reject with
   * `username_taken`; concurrent renames of one account leave it with exactly one of the names and
   * every other one free; a rename racing the account's `delete` leaves no index entry behind.
   * Names are compared exactly, as everywhere; `rename.username` is a canonical username (1 to 64
   * code points). The core only ever renames an account to a name nobody else holds: it never takes
   * a name from another account.
   */
  rename?(userHandle: string, rename: AccountRename): Promise<Account | null>;
}

/** What `AccountRepository.rename` changes. */
export interface AccountRename {
  /** The new username, kept exactly. */
  username: string;
  /** The new display name, kept exactly; omitted: the stored one stays. */
  displayName?: string;
  /**
   * Rename only while the stored username is exactly this one (or already `username`); otherwise
   * resolve `null` and change nothing. Omitted: whatever the stored username is.
   */
  expectedUsername?: string;
}

/** What `SignInStore.consumeForSignIn` read. */
export interface SignInReads {
  /** The ceremony's value, consumed; `null` when there is none (as `ChallengeStore.consume`). */
  ceremony: string | null;
  /** The credential with the given id (as `CredentialRepository.findById`), or `null`. */
  credential: StoredCredential | null;
  /**
   * The account owning `credential` (as `AccountRepository.findByUserHandle(credential.userHandle)`);
   * `null` when there is no credential or no such account.
   */
  account: Account | null;
}

/**
 * Optional: a sign-in's reads in one round trip each, instead of two or three. An adapter whose three
 * stores live on one server may offer it (Lua scripts, single SQL statements); without it the core
 * makes the separate calls (`consume`, `findById`, `findByUserHandle` for a verify; `findByUsername`,
 * `listByUserHandle` for username-first options), so an adapter that leaves it out loses nothing but
 * round trips.
 */
export interface SignInStore {
  /**
   * The stores `consumeForSignIn` reads through: the very objects the adapter's factory put in its
   * `PassgateStores`. The core calls `consumeForSignIn` only when all three are identical (`===`)
   * to the stores it was given, so an application that replaces one of an adapter's stores
   * (`{ ...createRedisStores(options), credentials: other }`) gets the separate calls, never a read
   * of the wrong store.
   */
  readonly readsFrom: {
    readonly challenges: ChallengeStore;
    readonly credentials: CredentialRepository;
    readonly accounts: AccountRepository;
  };

  /**
   * Consumes the ceremony `ceremonyId` and reads credential `credentialId` with its account, in one
   * operation of the store. Resolves what `challenges.consume(ceremonyId)`,
   * `credentials.findById(credentialId)` and then `accounts.findByUserHandle(credential.userHandle)`
   * would resolve, with their rules (single-use, expiry by the store's clock, full-length exact ids,
   * fresh copies):
   * - The ceremony is consumed whatever the credential lookup finds (also when it finds nothing),
   *   and the credential and account are read whether or not the ceremony was there.
   * - Atomic and single-use as `consume`: of any number of concurrent calls for one ceremony (and
   *   concurrent `challenges.consume` calls for it), across every process sharing the store, at
   *   most one resolves its value.
   * - The credential and the account are read in the same operation as the consume (one snapshot
   *   where the store has them), so the account is the owner of the credential as it was read.
   * Rejects as the separate calls would (`store_unavailable` for an outage, the store's own error for
   * a deployment fault); a rejected call may or may not have consumed the ceremony, as with `consume`.
   */
  consumeForSignIn(ceremonyId: string, credentialId: string): Promise<SignInReads>;

  /**
   * A username-first `login/options`'s reads in one operation of the store: the account with
   * `username` (as `AccountRepository.findByUsername`) and its credentials (as
   * `CredentialRepository.listByUserHandle`: oldest first, fresh copies). When no account has this
   * username, the credentials listed are those under `standInHandle` (a user handle no account has, so
   * `[]`): the store does the same work for an unknown username as for a known one, so the time it
   * takes does not tell which usernames exist. Read-only; the account and its credentials are read in
   * one snapshot where the store has them.
   */
  findForSignIn(username: string, standInHandle: string): Promise<UsernameReads>;
}

/** What `SignInStore.findForSignIn` read. */
export interface UsernameReads {
  account: Account | null;
  /** The account's credentials, oldest first; `[]` when there is no account. */
  credentials: StoredCredential[];
}

/**
 * What a counted operation of `CountingStore` resolves: the operation's own result, or `limited`
 * when the per-IP bucket refused the request (and the operation did nothing).
 */
export type Counted<T> =
  | { readonly limited: false; readonly value: T }
  | {
      readonly limited: true;
      /** Milliseconds until the bucket's window ends (the `Retry-After`, rounded up to seconds). */
      readonly msBeforeNext: number;
    };

/**
 * Optional: the per-IP request limit counted in the same operation of the store as the ceremony's
 * write (`login/options`) or consume (`login/verify`), one round trip instead of two. An adapter
 * that keeps a rate limiter's buckets on the server of its challenges may offer it (one Lua script
 * on Redis). Without it, or when the application's `rateLimits.perIp` is not `limiter`, the core
 * calls the limiter first, as it always did: an adapter that leaves it out loses a round trip, no more.
 *
 * The bucket is the limiter's own, with its semantics: a fixed window of `durationSeconds` that
 * starts with its first request, `points` requests in it. Every call counts one request, also a
 * refused one (as the limiter's `consume(key)` does); the request is refused when the count is
 * then over `points`. A refused call does nothing else (no ceremony stored, none consumed), and
 * resolves `{ limited: true, msBeforeNext }`, the window's remaining time by the store's clock.
 * Counting and the operation are one atomic step: no request slips past the limit between them.
 * Counts of this store and of `limiter.consume` on the same key are the same counts.
 * Rejects as the uncounted operation would: `store_unavailable` for an outage, the store's own error
 * for a deployment fault (a limiter key of the wrong type, say), which the core answers 503 and
 * 500 (logged) as for the limiter: limits fail closed.
 */
export interface CountingStore {
  /**
   * The per-IP limiter (`rateLimits.perIp`) whose buckets this store keeps. The core counts
   * through this store only when its `rateLimits.perIp` is this very object (`===`).
   */
  readonly limiter: RateLimiterAbstract;
  /** The stores it writes and reads, as `SignInStore.readsFrom`: used only when all three are the core's. */
  readonly readsFrom: SignInStore['readsFrom'];

  /**
   * Counts one request against the bucket of `key` (the limiter's key: the client IP, or its /64),
   * then, unless refused, `challenges.put(id, value, ttlMs)` with its rules, in one atomic step.
   */
  putCounted(key: string, id: string, value: string, ttlMs: number): Promise<Counted<boolean>>;

  /**
   * Counts one request against the bucket of `key`, then, unless refused,
   * `signIn.consumeForSignIn(ceremonyId, credentialId)` with its rules, in one atomic step. A
   * refused call consumes nothing (the ceremony stays pending) and reads nothing.
   */
  consumeForSignInCounted(
    key: string,
    ceremonyId: string,
    credentialId: string,
  ): Promise<Counted<SignInReads>>;
}

/** What `createPassgate` takes as `stores`; adapters' factories return this shape. */
export interface PassgateStores {
  challenges: ChallengeStore;
  credentials: CredentialRepository;
  accounts: AccountRepository;
  /** Optional (see `SignInStore`): the verify's first reads in one round trip. */
  signIn?: SignInStore;
  /** Optional (see `CountingStore`): the per-IP limit counted with the ceremony's write or consume. */
  counting?: CountingStore;
}

/**
 * `stores.counting` when the core may use it: it keeps the buckets of `perIp` (the limiter in force)
 * and writes and reads exactly these stores.
 */
export function usableCountingStore(stores: PassgateStores, perIp: object | null): CountingStore | null {
  const counting = stores.counting;
  if (counting === undefined || counting === null || perIp === null || counting.limiter !== perIp)
    return null;
  return readsThrough(counting.readsFrom, stores) ? counting : null;
}

/** `stores.signIn` when the core may use it: it reads through exactly these stores. */
export function usableSignInStore(stores: PassgateStores): SignInStore | null {
  const signIn = stores.signIn;
  if (signIn === undefined || signIn === null) return null;
  return readsThrough(signIn.readsFrom, stores) ? signIn : null;
}

/** Whether `from` (a `readsFrom`) names exactly the three stores of `stores`. */
function readsThrough(from: SignInStore['readsFrom'] | undefined, stores: PassgateStores): boolean {
  return (
    from !== undefined &&
    from.challenges === stores.challenges &&
    from.credentials === stores.credentials &&
    from.accounts === stores.accounts
  );
}
