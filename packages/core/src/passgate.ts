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
import { countWithLimiter, type RequestCount } from './request-count.js';
import { createRuntime, type Runtime } from './runtime.js';
import {
  type ApplicationSignIn,
  checkIdentifiedUser,
  type ResolvedSignIn,
  resolveSignIn,
  type SignIn,
} from './sign-in.js';
import type { Account, CredentialView, PasskeySession, SignalView } from './types.js';
import {
  deletePasskeyAccount,
  listUserCredentials,
  type PasskeyAccountNames,
  renamePasskeyAccount,
  revokeAllCredentials,
  revokeCredential,
} from './user-operations.js';

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

  /** The signed-in account, or `unauthenticated` (no sign-in, no passkey yet, or the account is gone). */
  getAccount(session: SignIn | null): Promise<Account> {
    return signedInAccount(this.runtime, session);
  }

  /**
   * Checks what an integration's `identify` option returned (`null`/`undefined`: nobody). Anything
   * else that is not a valid `IdentifiedUser` is logged naming `option` and rejects with
   * `internal_error` (a 500): it is the application's bug, and guessing could put a passkey on the
   * wrong user.
   */
  checkIdentifiedUser(value: unknown, option = 'identify'): ApplicationSignIn | null {
    return checkIdentifiedUser(this.runtime, value, option);
  }

  /**
   * Who is signed in for a request, from Passgate's own session and the application's signed-in user
   * (see `resolveSignIn`). `ended: true` means a sign-in made with a passkey that has since been
   * deleted: end that session.
   */
  resolveSignIn(
    session: PasskeySession | null,
    identified: ApplicationSignIn | null,
  ): Promise<ResolvedSignIn> {
    return resolveSignIn(this.runtime, session, identified);
  }

  /** The user's passkeys by the application's user id, oldest first (`[]` for none). No session needed. */
  listUserCredentials(userId: string): Promise<CredentialView[]> {
    return listUserCredentials(this.runtime, userId);
  }

  /**
   * Removes one passkey of the user (even the last), emitting `credential_removed`; sessions made with
   * it end. `not_found` when the user has no such passkey.
   */
  revokeCredential(userId: string, credentialId: string): Promise<void> {
    return revokeCredential(this.runtime, userId, credentialId);
  }

  /** Removes every passkey of the user, emitting `credential_removed` for each; resolves their ids. */
  revokeAllCredentials(userId: string): Promise<string[]> {
    return revokeAllCredentials(this.runtime, userId);
  }

  /**
   * Deletes the user's passkey account (all passkeys and the link to their user handle), e.g. when the
   * application deletes the user. Resolves false when there was none.
   */
  deletePasskeyAccount(userId: string): Promise<boolean> {
    return deletePasskeyAccount(this.runtime, userId);
  }

  /**
   * The application changed the user's name (or email): the passkey account's stored copy, which
   * username-first sign-in looks up, follows, and the old name is free. Call it from the application's
   * name-change handler. A name another account holds is `username_taken` (nothing changes; a name is
   * never taken from its holder). Resolves false when the user has no passkey account. Needs stores with
   * `AccountRepository.rename` (a `TypeError` otherwise): the in-memory, Redis and PostgreSQL ones.
   */
  renamePasskeyAccount(userId: string, names: PasskeyAccountNames): Promise<boolean> {
    return renamePasskeyAccount(this.runtime, userId, names);
  }

  describeSession(session: SignIn | null): Promise<SessionView> {
    return describeSession(this.runtime, session);
  }

  /** `signal` is `null` for an application's user who has no passkey yet. */
  listCredentials(
    session: SignIn | null,
    context?: RequestContext,
  ): Promise<{ credentials: CredentialView[]; signal: SignalView | null }> {
    return listCredentials(this.runtime, session, context);
  }

  /** `not_found` for a credential that is missing or another account's. */
  renameCredential(session: SignIn | null, credentialId: string, nickname: string): Promise<CredentialView> {
    return renameCredential(this.runtime, session, credentialId, nickname);
  }

  /** `reauthentication_required` outside the sensitive-action window; `not_found`; `last_credential`. */
  deleteCredential(
    session: SignIn | null,
    credentialId: string,
    context?: RequestContext,
  ): Promise<{ deleted: true; signal: SignalView }> {
    return deleteCredential(this.runtime, session, credentialId, context);
  }

  /** Counts one options or verify request against the client IP's bucket (`rate_limited` when empty). */
  consumeRequestLimit(ip: string | undefined): Promise<void> {
    return this.runtime.telemetry.ipLimit(() => this.runtime.limits.consumeIp(ip));
  }

  /**
   * Counts `count` against its IP's per-IP bucket with the limiter, unless it was counted already
   * (by the ceremony it was passed to); `rate_limited` when refused. For whoever passed it to
   * `startAuthentication` or `finishAuthentication` and saw the call fail before the ceremony counted it.
   */
  countRequest(count: RequestCount): Promise<void> {
    return countWithLimiter(this.runtime, count);
  }

  /** Whether a sign-in is recent enough (and user-verified, if asked) for a sensitive action. */
  isRecentAuthentication(
    session: SignIn | null,
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
