import { signedInAccount } from './accounts.js';
import type { RequestContext } from './config.js';
import { PassgateError } from './errors.js';
import type { Runtime } from './runtime.js';
import type { CredentialView, PasskeySession, SignalView, UserView } from './types.js';
import { toCredentialView, toSignal, toUserView } from './views.js';

/** `GET /session` of the contract. */
export interface SessionView {
  user: UserView;
  credentialId: string;
  authenticatedAt: string;
  userVerified: boolean;
}

export async function describeSession(
  runtime: Runtime,
  session: PasskeySession | null,
): Promise<SessionView> {
  const account = await signedInAccount(runtime, session);
  const s = session as PasskeySession;
  return {
    user: toUserView(account),
    credentialId: s.credentialId,
    authenticatedAt: new Date(s.authenticatedAt).toISOString(),
    userVerified: s.userVerified,
  };
}

export async function listCredentials(
  runtime: Runtime,
  session: PasskeySession | null,
  context: RequestContext = {},
): Promise<{ credentials: CredentialView[]; signal: SignalView }> {
  const account = await signedInAccount(runtime, session);
  const credentials = await runtime.store('credentials.listByUserHandle', () =>
    runtime.stores.credentials.listByUserHandle(account.userHandle),
  );
  return {
    credentials: credentials.map((c) => toCredentialView(runtime, c)),
    signal: toSignal(runtime.rpId(context), account, credentials),
  };
}

export async function renameCredential(
  runtime: Runtime,
  session: PasskeySession | null,
  credentialId: string,
  nickname: string,
): Promise<CredentialView> {
  const account = await signedInAccount(runtime, session);
  const trimmed = nickname.trim();
  const updated = await runtime.store('credentials.rename', () =>
    runtime.stores.credentials.rename(account.userHandle, credentialId, trimmed.length > 0 ? trimmed : null),
  );
  // Another account's credential answers exactly like a missing one (no IDOR oracle).
  if (!updated) throw new PassgateError('not_found');
  runtime.events.emit('credential_renamed', { account, credential: updated });
  return toCredentialView(runtime, updated);
}

export async function deleteCredential(
  runtime: Runtime,
  session: PasskeySession | null,
  credentialId: string,
  context: RequestContext = {},
): Promise<{ deleted: true; signal: SignalView }> {
  const account = await signedInAccount(runtime, session);
  const s = session as PasskeySession;
  if (runtime.now() - s.authenticatedAt > runtime.reauthenticationWindowMs) {
    throw new PassgateError('reauthentication_required');
  }
  const result = await runtime.store('credentials.delete', () =>
    runtime.stores.credentials.delete(account.userHandle, credentialId, {
      allowLast: runtime.allowDeletingLastCredential,
    }),
  );
  if (result === 'not_found') throw new PassgateError('not_found');
  if (result === 'last_credential') throw new PassgateError('last_credential');
  runtime.events.emit('credential_deleted', { account, credentialId });
  const remaining = await runtime.store('credentials.listByUserHandle', () =>
    runtime.stores.credentials.listByUserHandle(account.userHandle),
  );
  return { deleted: true, signal: toSignal(runtime.rpId(context), account, remaining) };
}
