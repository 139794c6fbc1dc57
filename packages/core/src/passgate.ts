import type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import { signedInAccount } from './accounts.js';
import {
  type AuthenticationResult,
  type FinishAuthenticationInput,
  finishAuthentication,
  type StartAuthenticationInput,
  startAuthentication,
} from './authentication.js';
import type { PassgateOptions, RequestContext } from './config.js';
import type { PassgateEventName, PassgateListener } from './events.js';
import {
  deleteCredential,
  describeSession,
  listCredentials,
  renameCredential,
  type SessionView,
} from './management.js';
import {
  type CeremonyStart,
  type FinishRegistrationInput,
  finishRegistration,
  type RegistrationResult,
  type StartRegistrationInput,
  startRegistration,
} from './registration.js';
import { createRuntime, type Runtime } from './runtime.js';
import type { Account, CredentialView, PasskeySession, SignalView } from './types.js';

/**
 * Passkey ceremonies and passkey management over the configured stores. Framework-neutral: the
 * framework packages call these through `@passgate/core/http`; applications with their own
 * endpoints call them directly.
 *
 * Every method rejects with `PassgateError` for the outcomes the contract names (its `code` and
 * `status`); a store that cannot be reached rejects with `store_unavailable`, any other store error
 * with `internal_error` (logged).
 */
export class Passgate {
  /** @internal */
  readonly runtime: Runtime;

  constructor(options: PassgateOptions) {
    this.runtime = createRuntime(options);
  }

  /** Subscribes to an event (registered, signed_in, verification_failed, clone_suspected, …); returns an unsubscribe function. */
  on<K extends PassgateEventName>(name: K, listener: PassgateListener<K>): () => void {
    return this.runtime.events.on(name, listener);
  }

  /**
   * Options for a new passkey: sign-up when `session` is null (needs `username`; `username_taken`,
   * `unauthenticated` when sign-up is off), or another passkey for the signed-in account.
   * Keeps the ceremony server-side under the returned `ceremonyId`.
   */
  startRegistration(
    input: StartRegistrationInput,
  ): Promise<CeremonyStart<PublicKeyCredentialCreationOptionsJSON>> {
    return this.runtime.telemetry.step('registration', 'start', () => startRegistration(this.runtime, input));
  }

  /**
   * Consumes the ceremony (once, whatever the outcome), verifies the response against the policy
   * stored with it, and stores the passkey (with the new account, all or nothing, at sign-up).
   */
  finishRegistration(input: FinishRegistrationInput): Promise<RegistrationResult> {
    return this.runtime.telemetry.step('registration', 'finish', () =>
      finishRegistration(this.runtime, input),
    );
  }

  /** Options for signing in: usernameless/autofill without `username`, username-first with it. */
  startAuthentication(
    input: StartAuthenticationInput = {},
  ): Promise<CeremonyStart<PublicKeyCredentialRequestOptionsJSON>> {
    return this.runtime.telemetry.step('authentication', 'start', () =>
      startAuthentication(this.runtime, input),
    );
  }

  /** Consumes the ceremony, verifies the assertion, applies the counter rule and updates the credential. */
  finishAuthentication(input: FinishAuthenticationInput): Promise<AuthenticationResult> {
    return this.runtime.telemetry.step('authentication', 'finish', () =>
      finishAuthentication(this.runtime, input),
    );
  }

  /** The signed-in account, or `unauthenticated` (no session, or the account is gone). */
  getAccount(session: PasskeySession | null): Promise<Account> {
    return signedInAccount(this.runtime, session);
  }

  describeSession(session: PasskeySession | null): Promise<SessionView> {
    return describeSession(this.runtime, session);
  }

  listCredentials(
    session: PasskeySession | null,
    context?: RequestContext,
  ): Promise<{ credentials: CredentialView[]; signal: SignalView }> {
    return listCredentials(this.runtime, session, context);
  }

  /** `not_found` for a credential that is missing or another account's. */
  renameCredential(
    session: PasskeySession | null,
    credentialId: string,
    nickname: string,
  ): Promise<CredentialView> {
    return renameCredential(this.runtime, session, credentialId, nickname);
  }

  /** `reauthentication_required` outside the sensitive-action window; `not_found`; `last_credential`. */
  deleteCredential(
    session: PasskeySession | null,
    credentialId: string,
    context?: RequestContext,
  ): Promise<{ deleted: true; signal: SignalView }> {
    return deleteCredential(this.runtime, session, credentialId, context);
  }

  /** Counts one options or verify request against the client IP's bucket (`rate_limited` when empty). */
  consumeRequestLimit(ip: string | undefined): Promise<void> {
    return this.runtime.telemetry.ipLimit(() => this.runtime.limits.consumeIp(ip));
  }

  /** Whether a sign-in is recent enough (and user-verified, if asked) for a sensitive action. */
  isRecentAuthentication(
    session: PasskeySession | null,
    options: { maxAgeSeconds?: number; userVerified?: boolean } = {},
  ): boolean {
    if (!session) return false;
    const maxAgeMs = (options.maxAgeSeconds ?? this.runtime.reauthenticationWindowMs / 1000) * 1000;
    if (this.runtime.now() - session.authenticatedAt > maxAgeMs) return false;
    return !options.userVerified || session.userVerified;
  }
}

export function createPassgate(options: PassgateOptions): Passgate {
  return new Passgate(options);
}
