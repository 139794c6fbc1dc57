import { invalidRequest, PassgateError } from './errors.js';
import type { Runtime } from './runtime.js';
import { isPrintableText } from './schemas.js';
import { isApplicationSignIn, type SignIn } from './sign-in.js';
import type { Account } from './types.js';

/**
 * The account behind a sign-in: `unauthenticated` without one, or for a Passgate session whose account
 * no longer exists. An application's user with no passkey yet has no account: `null`.
 */
export async function linkedAccount(runtime: Runtime, signIn: SignIn | null): Promise<Account | null> {
  if (!signIn) throw new PassgateError('unauthenticated');
  const account = await runtime.store('accounts.findByUserId', () =>
    runtime.stores.accounts.findByUserId(signIn.userId),
  );
  if (isApplicationSignIn(signIn)) return account;
  if (!account || account.userHandle !== signIn.userHandle) throw new PassgateError('unauthenticated');
  return account;
}

/** The account behind a sign-in, or `unauthenticated` (no sign-in, or the account is gone). */
export async function signedInAccount(runtime: Runtime, signIn: SignIn | null): Promise<Account> {
  const account = await linkedAccount(runtime, signIn);
  if (!account) throw new PassgateError('unauthenticated');
  return account;
}

export function canonicalUsername(runtime: Runtime, username: string): string {
  const canonical = runtime.normalizeUsername(username);
  const length = [...canonical].length;
  if (length < 1 || length > 64) throw invalidRequest('username', 'username must be 1 to 64 characters');
  if (!isPrintableText(canonical))
    throw invalidRequest('username', 'username must be text without control characters');
  return canonical;
}
