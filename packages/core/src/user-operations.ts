import { accountRenamer } from './account-names.js';
import { canonicalUsername } from './accounts.js';
import { invalidRequest, PassgateError } from './errors.js';
import { emitCredentialRemoved } from './passkey-events.js';
import type { Runtime } from './runtime.js';
import { isNameText, isUserIdText } from './schemas.js';
import type { Account, CredentialView } from './types.js';
import { toCredentialView } from './views.js';

/**
 * Operations the application runs on its own users' passkeys, with no user session: support tools,
 * account deletion, "sign out everywhere". Users are named by the application's user id. Every
 * removal emits `credential_removed`, and sessions made with a removed passkey end (they are checked
 * against the store on each request).
 */

async function accountOf(runtime: Runtime, userId: string): Promise<Account | null> {
  if (typeof userId !== 'string' || userId.length === 0)
    throw new TypeError('userId must be a non-empty string');
  // No account can hold such an id (identify refuses it), and a store asked for it could fail (a
  // NUL in PostgreSQL) or find another id (a lone surrogate in a UTF-8 store).
  if (!isUserIdText(userId)) return null;
  return runtime.store('accounts.findByUserId', () => runtime.stores.accounts.findByUserId(userId));
}

/** The user's passkeys, oldest first; `[]` for a user with none (or unknown to Passgate). */
export async function listUserCredentials(runtime: Runtime, userId: string): Promise<CredentialView[]> {
  const account = await accountOf(runtime, userId);
  if (!account) return [];
  const credentials = await runtime.store('credentials.listByUserHandle', () =>
    runtime.stores.credentials.listByUserHandle(account.userHandle),
  );
  return credentials.map((c) => toCredentialView(runtime, c));
}

/**
 * Removes one of the user's passkeys, even the last (the application decides; its own sign-in
 * remains). `not_found` when the user has no such passkey.
 */
export async function revokeCredential(
  runtime: Runtime,
  userId: string,
  credentialId: string,
): Promise<void> {
  const account = await accountOf(runtime, userId);
  if (!account) throw new PassgateError('not_found');
  const credential = await runtime.store('credentials.findById', () =>
    runtime.stores.credentials.findById(credentialId),
  );
  const result = await runtime.store('credentials.delete', () =>
    runtime.stores.credentials.delete(account.userHandle, credentialId, { allowLast: true }),
  );
  if (result !== 'deleted') throw new PassgateError('not_found');
  emitCredentialRemoved(runtime, account, credentialId, credential, 'application');
}

/** Removes every passkey of the user (the account link stays); resolves the ids removed. */
export async function revokeAllCredentials(runtime: Runtime, userId: string): Promise<string[]> {
  const account = await accountOf(runtime, userId);
  if (!account) return [];
  const credentials = await runtime.store('credentials.listByUserHandle', () =>
    runtime.stores.credentials.listByUserHandle(account.userHandle),
  );
  const removed: string[] = [];
  for (const credential of credentials) {
    const result = await runtime.store('credentials.delete', () =>
      runtime.stores.credentials.delete(account.userHandle, credential.id, { allowLast: true }),
    );
    if (result !== 'deleted') continue; // removed meanwhile by someone else, who reports it
    removed.push(credential.id);
    emitCredentialRemoved(runtime, account, credential.id, credential, 'application');
  }
  return removed;
}

/**
 * Deletes the user's passkey account: every passkey and the link between the application's user id
 * and its user handle (for account deletion). A later first passkey links the user to a new handle.
 * Resolves false when the user had no passkey account.
 */
export async function deletePasskeyAccount(runtime: Runtime, userId: string): Promise<boolean> {
  const account = await accountOf(runtime, userId);
  if (!account) return false;
  const credentials = await runtime.store('credentials.listByUserHandle', () =>
    runtime.stores.credentials.listByUserHandle(account.userHandle),
  );
  const removed = await runtime.store('accounts.delete', () =>
    runtime.stores.accounts.delete(account.userHandle),
  );
  if (removed === null) return false;
  const known = new Map(credentials.map((c) => [c.id, c]));
  for (const id of removed) emitCredentialRemoved(runtime, account, id, known.get(id), 'account_deleted');
  return true;
}

/** What `renamePasskeyAccount` takes: the user's names as the application's `identify` gives them. */
export interface PasskeyAccountNames {
  /** The login name (username or email), 1..64 code points; stored in its canonical form. */
  name: string;
  /** The name authenticators show, 1..64 code points; omitted: the stored one stays. */
  displayName?: string | undefined;
}

/**
 * The application changed a user's name: the passkey account's stored copy follows, so username-first
 * sign-in finds them by the new name and the old one is free for whoever the application gives it
 * to. A name another account holds (whoever made it) is `username_taken` and nothing changes: it is
 * never taken from its holder. Resolves false when the user has no passkey account (nothing to
 * rename). Invalid names are `invalid_request`. Throws a `TypeError` when the stores cannot rename
 * accounts (an adapter without the optional `AccountRepository.rename`).
 */
export async function renamePasskeyAccount(
  runtime: Runtime,
  userId: string,
  names: PasskeyAccountNames,
): Promise<boolean> {
  const rename = accountRenamer(runtime);
  if (rename === null) {
    throw new TypeError('passgate: renamePasskeyAccount needs stores whose AccountRepository has rename()');
  }
  if (typeof names?.name !== 'string') throw new TypeError('names.name must be a string');
  const username = canonicalUsername(runtime, names.name);
  const displayName = names.displayName;
  if (displayName !== undefined && !isNameText(displayName, 1)) {
    throw invalidRequest('displayName', 'displayName must be 1 to 64 characters of text');
  }
  const account = await accountOf(runtime, userId);
  if (!account) return false;
  if (account.username === username && (displayName === undefined || displayName === account.displayName))
    return true;
  const change = displayName === undefined ? { username } : { username, displayName };
  return (await rename(account.userHandle, change)) !== null;
}
