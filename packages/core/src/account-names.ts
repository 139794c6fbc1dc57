import { isPassgateError } from './errors.js';
import type { Runtime } from './runtime.js';
import type { AccountRename, AccountRepository } from './stores.js';
import type { Account } from './types.js';

/**
 * The usernames Passgate keeps as copies of an application's names, kept current: an application owns
 * its users' names, so when one changes, the stored copy follows (`accounts.rename`). A name another
 * account holds is never taken from it: Passgate cannot tell whether the holder's name really changed
 * in the application (names are compared after `normalizeUsername`, so names the application keeps
 * apart may be one username here), and taking it would hand the holder's username-first sign-in to
 * someone else. Such a rename is `username_taken`, as a first passkey under a held name is.
 *
 * Everything here needs the stores' optional `AccountRepository.rename`; without it names stay as
 * first stored.
 */

type Rename = (userHandle: string, rename: AccountRename) => Promise<Account | null>;

/** The stores' `accounts.rename`, bound, or `null` when the adapter has none. */
export function accountRenamer(runtime: Runtime): Rename | null {
  const accounts: AccountRepository = runtime.stores.accounts;
  if (typeof accounts.rename !== 'function') return null;
  return (userHandle, rename) =>
    runtime.store('accounts.rename', () => (accounts.rename as Rename).call(accounts, userHandle, rename));
}

/**
 * An application's user adding a passkey under names that differ from the stored copy: the copy
 * follows, best effort. When another account holds the new name the copy stays as it is (never a
 * takeover, see above) and the passkey is still added: refusing it would lock the user out of new
 * passkeys over a name they cannot change back. Compare-and-set on the name read, so a newer
 * `renamePasskeyAccount` is never overwritten. Stores that cannot rename keep the copy.
 */
export async function refreshStoredNames(
  runtime: Runtime,
  account: Account,
  username: string,
  displayName: string,
): Promise<void> {
  if (account.username === username && account.displayName === displayName) return;
  const rename = accountRenamer(runtime);
  if (rename === null) return;
  try {
    await rename(account.userHandle, { username, displayName, expectedUsername: account.username });
  } catch (error) {
    if (!isPassgateError(error, 'username_taken')) throw error;
    // The user id only: names are personal data, and the holder's is none of this log's business.
    runtime.logger.info(
      "passgate: a passkey account's stored name was kept: another account holds the new one",
      {
        userId: account.userId,
      },
    );
  }
}
