import type { Runtime } from './runtime.js';
import type { Account, CredentialView, SignalView, StoredCredential, UserView } from './types.js';

export function toUserView(account: Account): UserView {
  return { id: account.userId, name: account.username, displayName: account.displayName };
}

export function toCredentialView(runtime: Runtime, credential: StoredCredential): CredentialView {
  return {
    id: credential.id,
    nickname: credential.nickname,
    createdAt: credential.createdAt.toISOString(),
    lastUsedAt: credential.lastUsedAt ? credential.lastUsedAt.toISOString() : null,
    deviceType: credential.backupEligible ? 'multiDevice' : 'singleDevice',
    backedUp: credential.backedUp,
    transports: [...credential.transports],
    aaguid: credential.aaguid,
    authenticatorName: runtime.authenticatorName(credential.aaguid),
  };
}

/** What the browser's Signal API takes, so it can drop deleted passkeys and show current names. */
export function toSignal(rpId: string, account: Account, credentials: StoredCredential[]): SignalView {
  return {
    rpId,
    userId: account.userHandle,
    allAcceptedCredentialIds: credentials.map((c) => c.id),
    name: account.username,
    displayName: account.displayName,
  };
}
