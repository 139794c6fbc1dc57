import { linkedAccount } from './accounts.js';
import type { RequestContext } from './config.js';
import { PassgateError } from './errors.js';
import { emitCredentialRemoved } from './passkey-events.js';
import type { Runtime } from './runtime.js';
import { isApplicationSignIn, type SignIn, signInCredentialId } from './sign-in.js';
import type { CredentialView, SignalView, UserView } from './types.js';
import { toCredentialView, toSignal, toUserView } from './views.js';

/** `GET /session` of the contract. */
export interface SessionView {
  user: UserView;
  /** The passkey the sign-in was made with; `null` for an application's own sign-in (a password, ...). */
  credentialId: string | null;
  authenticatedAt: string;
  userVerified: boolean;
}

export async function describeSession(runtime: Runtime, signIn: SignIn | null): Promise<SessionView> {
  const account = await linkedAccount(runtime, signIn);
  const s = signIn as SignIn;
  // The application's user is named as the application names it now; a Passgate account as stored.
  const user: UserView = isApplicationSignIn(s)
    ? { id: s.userId, name: s.name, displayName: s.displayName }
    : toUserView(account as NonNullable<typeof account>);
  return {
    user,
    credentialId: signInCredentialId(s),
    authenticatedAt: new Date(s.authenticatedAt).toISOString(),
    userVerified: s.userVerified,
  };
}

/**
 * The signed-in user's passkeys. An application's user without a passkey yet has none, and no
 * `signal` (there is no user handle to signal about): `signal` is `null` then.
 */
export async function listCredentials(
  runtime: Runtime,
  signIn: SignIn | null,
  context: RequestContext = {},
): Promise<{ credentials: CredentialView[]; signal: SignalView | null }> {
  const account = await linkedAccount(runtime, signIn);
  if (!account) return { credentials: [], signal: null };
  const credentials = await runtime.store('credentials.listByUserHandle', () =>
    runtime.stores.credentials.listByUserHandle(account.userHandle),
  );
  return {
    credentials: credentials.map((c) => toCredentialView(runtime, c)),
    signal: toSignal(runtime.rpId(context), account, credentials, signIn),
  };
}

export async function renameCredential(
  runtime: Runtime,
  signIn: SignIn | null,
  credentialId: string,
  nickname: string,
): Promise<CredentialView> {
  const account = await linkedAccount(runtime, signIn);
  // Another account's credential (or none at all) answers exactly like a missing one (no IDOR oracle).
  if (!account) throw new PassgateError('not_found');
  const trimmed = nickname.trim();
  const updated = await runtime.store('credentials.rename', () =>
    runtime.stores.credentials.rename(account.userHandle, credentialId, trimmed.length > 0 ? trimmed : null),
  );
  if (!updated) throw new PassgateError('not_found');
  runtime.events.emit('credential_renamed', { account, credential: updated });
  return toCredentialView(runtime, updated);
}

export async function deleteCredential(
  runtime: Runtime,
  signIn: SignIn | null,
  credentialId: string,
  context: RequestContext = {},
): Promise<{ deleted: true; signal: SignalView }> {
  const account = await linkedAccount(runtime, signIn);
  const s = signIn as SignIn;
  if (runtime.now() - s.authenticatedAt > runtime.reauthenticationWindowMs) {
    throw new PassgateError('reauthentication_required');
  }
  if (!account) throw new PassgateError('not_found');
  // Read first: the removal event names the authenticator, which the deleted row no longer can.
  const credential = await runtime.store('credentials.findById', () =>
    runtime.stores.credentials.findById(credentialId),
  );
  const result = await runtime.store('credentials.delete', () =>
    runtime.stores.credentials.delete(account.userHandle, credentialId, {
      allowLast: runtime.allowDeletingLastCredential,
    }),
  );
  if (result === 'not_found') throw new PassgateError('not_found');
  if (result === 'last_credential') throw new PassgateError('last_credential');
  runtime.events.emit('credential_deleted', { account, credentialId });
  emitCredentialRemoved(runtime, account, credentialId, credential, 'user');
  const remaining = await runtime.store('credentials.listByUserHandle', () =>
    runtime.stores.credentials.listByUserHandle(account.userHandle),
  );
  return { deleted: true, signal: toSignal(runtime.rpId(context), account, remaining, signIn) };
}
