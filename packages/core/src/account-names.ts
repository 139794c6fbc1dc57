import { createHash } from 'node:crypto';
import { isPassgateError, PassgateError } from './errors.js';
import type { Runtime } from './runtime.js';
import type { AccountRename, AccountRepository } from './stores.js';
import type { Account, StoredCredential } from './types.js';

/**
 * The usernames Passgate keeps as copies of an application's names, kept current: an application owns
 * its users' names, so when one changes, the stored copy follows (`renameAccount`), and when a name is
 * held by the stale copy of *another* application user, that copy is released (`releaseStaleName`).
 * Passgate's own sign-up accounts own their usernames: a name one of them holds stays taken.
 *
 * Everything here needs the stores' optional `AccountRepository.rename`; without it names stay as
 * first stored and a held name is `username_taken`, as before it existed.
 */

/** A released name starts with this: a control character, so no canonical username is one. */
const RELEASED_PREFIX = '\u0001released:';
/** Tries before a rename or a first passkey whose name keeps being taken answers `username_taken`. */
const MAX_ATTEMPTS = 3;

/**
 * The name an application's account gets when another application user takes over its stale one:
 * unique (one per user handle), at most 53 code points, and never a name anyone can sign in with or
 * register (canonical usernames have no control characters).
 */
export function releasedUsername(userHandle: string): string {
  return RELEASED_PREFIX + createHash('sha256').update(userHandle).digest('base64url');
}

export function isReleasedUsername(username: string): boolean {
  return username.startsWith(RELEASED_PREFIX);
}

type Rename = (userHandle: string, rename: AccountRename) => Promise<Account | null>;

/** The stores' `accounts.rename`, bound, or `null` when the adapter has none. */
export function accountRenamer(runtime: Runtime): Rename | null {
  const accounts: AccountRepository = runtime.stores.accounts;
  if (typeof accounts.rename !== 'function') return null;
  return (userHandle, rename) =>
    runtime.store('accounts.rename', () => (accounts.rename as Rename).call(accounts, userHandle, rename));
}

/**
 * Whether `holder`'s username may be released for the application's user `forUserId`: it is another
 * user's account that the application made (so its name is the application's, and the application now
 * gives it to someone else: the copy is stale). A sign-up's account owns its name. An account stored
 * before `source` was recorded counts as the application's only when Passgate's own sign-up is off:
 * then every account in use is one the application linked (a sign-up account from before could only
 * be used through the application, under the id the application adopted for it).
 */
export function isReleasable(runtime: Runtime, holder: Account, forUserId: string): boolean {
  if (holder.userId === forUserId || accountRenamer(runtime) === null) return false;
  if (holder.source !== undefined) return holder.source === 'application';
  return !runtime.signUp;
}

/**
 * Frees `username` for the application's user `forUserId` when another application account holds a
 * stale copy of it: that account is renamed to its released name, by compare-and-set on `username`
 * (a holder renamed meanwhile keeps its new name). Resolves true when the caller should try to take
 * the name again (released now, or freed or renamed meanwhile), false when the holder owns it.
 */
export async function releaseStaleName(
  runtime: Runtime,
  username: string,
  forUserId: string,
): Promise<boolean> {
  const rename = accountRenamer(runtime);
  if (rename === null) return false;
  const holder = await runtime.store('accounts.findByUsername', () =>
    runtime.stores.accounts.findByUsername(username),
  );
  if (holder === null) return true;
  if (!isReleasable(runtime, holder, forUserId)) return false;
  await rename(holder.userHandle, {
    username: releasedUsername(holder.userHandle),
    expectedUsername: username,
  });
  runtime.logger.info("passgate: released another application account's stale username for a user", {
    releasedUserId: holder.userId,
    forUserId,
  });
  return true;
}

/**
 * Renames `account` (an application's) to `username` (canonical) and `displayName`, releasing a stale
 * copy of the name held by another application account. Resolves the renamed account, or `null` when
 * it no longer exists; `username_taken` when a sign-up's account holds the name. Needs `rename`.
 */
export async function renameAccount(
  runtime: Runtime,
  account: Account,
  username: string,
  displayName?: string,
): Promise<Account | null> {
  const rename = accountRenamer(runtime);
  if (rename === null) throw new TypeError('passgate: the stores cannot rename accounts');
  const change: AccountRename = displayName === undefined ? { username } : { username, displayName };
  for (let attempt = 1; ; attempt++) {
    try {
      return await rename(account.userHandle, change);
    } catch (error) {
      if (!isPassgateError(error, 'username_taken') || attempt >= MAX_ATTEMPTS) throw error;
      if (!(await releaseStaleName(runtime, username, account.userId))) throw error;
    }
  }
}

/**
 * Creates an application user's account with its first passkey. When the name is held by another
 * application account's stale copy, that copy is released and the create tried again; a sign-up's
 * name, or one that keeps being taken, is `username_taken`.
 */
export async function createApplicationAccount(
  runtime: Runtime,
  account: Account,
  credential: StoredCredential,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await runtime.store('accounts.create', async () => {
        try {
          await runtime.stores.accounts.create(account, credential);
        } catch (error) {
          // Another first passkey of this user won the race (the create fails on the username or the
          // user id): this one was made for a user handle that will never be theirs, so it is refused
          // and the client starts again, adding one to the account that now exists.
          if (isPassgateError(error, 'credential_exists')) throw error;
          const linked = await runtime.stores.accounts.findByUserId(account.userId);
          if (linked && linked.userHandle !== account.userHandle) {
            throw new PassgateError('ceremony_expired', undefined, { reason: 'linked_meanwhile' });
          }
          throw error;
        }
      });
    } catch (error) {
      if (!isPassgateError(error, 'username_taken') || attempt >= MAX_ATTEMPTS) throw error;
      if (!(await releaseStaleName(runtime, account.username, account.userId))) throw error;
    }
  }
}
