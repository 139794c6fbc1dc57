import type { CredentialChange } from './events.js';
import type { Runtime } from './runtime.js';
import type { Account, StoredCredential } from './types.js';

/** `credential_added`, from the credential just stored. */
export function emitCredentialAdded(
  runtime: Runtime,
  account: Account,
  credential: StoredCredential,
  how: 'sign_up' | 'signed_in' | 'conditional_create',
): void {
  runtime.events.emit('credential_added', {
    userId: account.userId,
    credentialId: credential.id,
    authenticatorName: runtime.authenticatorName(credential.aaguid),
    aaguid: credential.aaguid,
    at: new Date(runtime.now()),
    how,
    account,
  });
}

/**
 * `credential_removed`. `credential` is the row as read before the delete (for the authenticator's
 * name); when a concurrent change removed it first, the name is unknown.
 */
export function emitCredentialRemoved(
  runtime: Runtime,
  account: Account,
  credentialId: string,
  credential: StoredCredential | null | undefined,
  how: CredentialChange<'user' | 'application' | 'account_deleted'>['how'],
): void {
  const aaguid = credential?.userHandle === account.userHandle ? credential.aaguid : null;
  runtime.events.emit('credential_removed', {
    userId: account.userId,
    credentialId,
    authenticatorName: aaguid === null ? null : runtime.authenticatorName(aaguid),
    aaguid: aaguid ?? '00000000-0000-0000-0000-000000000000',
    at: new Date(runtime.now()),
    how,
    account,
  });
}
