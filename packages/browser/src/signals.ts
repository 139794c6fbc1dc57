import { sendSignal } from '@simplewebauthn/browser';
import type { AccountSignal } from './types.js';

type SignalOptions = Parameters<typeof sendSignal>[0];

/**
 * Sends one WebAuthn Signal API call through @simplewebauthn/browser's `sendSignal`. Signals are
 * advice to the passkey provider, so this never throws: it resolves `false` when the browser lacks
 * the method (or WebAuthn altogether) or refused the signal, `true` when the browser accepted it.
 */
async function send(options: SignalOptions): Promise<boolean> {
  try {
    await sendSignal(options);
    return true;
  } catch {
    return false;
  }
}

/** After `401 unknown_credential`: the provider may hide or delete this passkey. */
export function signalUnknownCredential(rpId: string, credentialId: string): Promise<boolean> {
  return send({ signalName: 'unknownCredential', rpID: rpId, credentialID: credentialId });
}

/** After listing or deleting passkeys: the provider may drop this account's passkeys not listed. */
export function signalAllAcceptedCredentials(signal: AccountSignal): Promise<boolean> {
  return send({
    signalName: 'allAcceptedCredentials',
    rpID: signal.rpId,
    userID: signal.userId,
    allAcceptedCredentialIDs: signal.allAcceptedCredentialIds,
  });
}

/** Keeps the account's name and display name as the provider shows them up to date. */
export function signalCurrentUserDetails(signal: AccountSignal): Promise<boolean> {
  return send({
    signalName: 'currentUserDetails',
    rpID: signal.rpId,
    userID: signal.userId,
    userName: signal.name,
    userDisplayName: signal.displayName,
  });
}
