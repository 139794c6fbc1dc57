import { invalidRequest, PassgateError } from './errors.js';
import type { Runtime } from './runtime.js';
import { isPrintableText } from './schemas.js';
import type { Account, PasskeySession } from './types.js';

/** The account behind a session, or `unauthenticated` when it no longer exists. */
export async function signedInAccount(runtime: Runtime, session: PasskeySession | null): Promise<Account> {
  if (!session) throw new PassgateError('unauthenticated');
  const account = await runtime.store('accounts.findByUserId', () =>
    runtime.stores.accounts.findByUserId(session.userId),
  );
  if (!account || account.userHandle !== session.userHandle) throw new PassgateError('unauthenticated');
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
