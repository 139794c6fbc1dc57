import type { Runtime } from './runtime.js';
import { isApplicationSignIn, type SignIn } from './sign-in.js';
import type { Account, CredentialView, SignalView, StoredCredential, UserView } from './types.js';

/**
 * The names to show for the account behind a sign-in. The application owns its users' names: for its
 * own sign-in (`identify`) they are the ones it reports now, even when the stored copy is older (it
 * follows when the application calls `renamePasskeyAccount`, and when the user adds a passkey unless
 * another account holds the new name). The stored copy is the key username-first sign-in looks up; it
 * names a Passgate session's account, and a passkey sign-in's answer.
 */
export function currentNames(signIn: SignIn | null, account: Account): { name: string; displayName: string } {
  if (isApplicationSignIn(signIn) && signIn.userId === account.userId) {
    return { name: signIn.name, displayName: signIn.displayName };
  }
  return { name: account.username, displayName: account.displayName };
}

export function toUserView(account: Account, signIn: SignIn | null = null): UserView {
  return { id: account.userId, ...currentNames(signIn, account) };
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

/**
 * What the browser's Signal API takes, so it can drop deleted passkeys and show current names (the
 * application's current ones for its own sign-in: `currentNames`).
 */
export function toSignal(
  rpId: string,
  account: Account,
  credentials: StoredCredential[],
  signIn: SignIn | null = null,
): SignalView {
  return {
    rpId,
    userId: account.userHandle,
    allAcceptedCredentialIds: credentials.map((c) => c.id),
    ...currentNames(signIn, account),
  };
}
