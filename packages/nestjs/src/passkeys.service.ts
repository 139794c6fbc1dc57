import { Inject, Injectable } from '@nestjs/common';
import {
  type CeremonyStart,
  type FinishAuthenticationInput,
  type FinishRegistrationInput,
  Passgate,
  type PassgateEventName,
  type PassgateListener,
  type PasskeyAccountNames,
  type PasskeySession,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RequestContext,
  type SignIn,
  type StartAuthenticationInput,
  type StartRegistrationInput,
} from '@passgate/core';
import { PASSGATE, PASSKEY_SESSIONS } from './passkeys.constants.js';
import { type PasskeySessions, resolveSession } from './session.js';

/**
 * The module's Passgate instance and session handling, for apps that build endpoints of their own
 * (or run with `controller: false`). Every ceremony method rejects with `PassgateError` for the
 * outcomes the contract names; `@UseFilters(PasskeysExceptionFilter)` turns those into the contract's
 * responses.
 */
@Injectable()
export class PasskeysService {
  constructor(
    @Inject(PASSGATE) readonly passgate: Passgate,
    @Inject(PASSKEY_SESSIONS) private readonly sessions: PasskeySessions,
  ) {}

  startRegistration(
    input: StartRegistrationInput,
  ): Promise<CeremonyStart<PublicKeyCredentialCreationOptionsJSON>> {
    return this.passgate.startRegistration(input);
  }

  finishRegistration(input: FinishRegistrationInput) {
    return this.passgate.finishRegistration(input);
  }

  startAuthentication(
    input: StartAuthenticationInput = {},
  ): Promise<CeremonyStart<PublicKeyCredentialRequestOptionsJSON>> {
    return this.passgate.startAuthentication(input);
  }

  finishAuthentication(input: FinishAuthenticationInput) {
    return this.passgate.finishAuthentication(input);
  }

  /** The signed-in account; `unauthenticated` without a session or when the account is gone. */
  getAccount(session: SignIn | null) {
    return this.passgate.getAccount(session);
  }

  describeSession(session: SignIn | null) {
    return this.passgate.describeSession(session);
  }

  listCredentials(session: SignIn | null, context?: RequestContext) {
    return this.passgate.listCredentials(session, context);
  }

  renameCredential(session: SignIn | null, credentialId: string, nickname: string) {
    return this.passgate.renameCredential(session, credentialId, nickname);
  }

  deleteCredential(session: SignIn | null, credentialId: string, context?: RequestContext) {
    return this.passgate.deleteCredential(session, credentialId, context);
  }

  /** Whether a sign-in is recent enough (and user-verified, if asked) for a sensitive action. */
  isRecentAuthentication(
    session: SignIn | null,
    options: { maxAgeSeconds?: number; userVerified?: boolean } = {},
  ): boolean {
    return this.passgate.isRecentAuthentication(session, options);
  }

  /** The user's passkeys by the application's user id (no session needed); `[]` for none. */
  listUserCredentials(userId: string) {
    return this.passgate.listUserCredentials(userId);
  }

  /** Removes one passkey of the user (emits `credential_removed`; sessions made with it end). */
  revokeCredential(userId: string, credentialId: string) {
    return this.passgate.revokeCredential(userId, credentialId);
  }

  /** Removes every passkey of the user; resolves the ids removed. */
  revokeAllCredentials(userId: string) {
    return this.passgate.revokeAllCredentials(userId);
  }

  /** Deletes the user's passkey account (passkeys and the link to their user handle). */
  deletePasskeyAccount(userId: string) {
    return this.passgate.deletePasskeyAccount(userId);
  }

  /**
   * The application changed the user's name: the stored copy that username-first sign-in looks up
   * follows, and the old name is free (`Passgate.renamePasskeyAccount`). False for a user without
   * passkeys; `username_taken` when another account holds the name.
   */
  renamePasskeyAccount(userId: string, names: PasskeyAccountNames) {
    return this.passgate.renamePasskeyAccount(userId, names);
  }

  /** Subscribes to a Passgate event; returns an unsubscribe function. */
  on<K extends PassgateEventName>(name: K, listener: PassgateListener<K>): () => void {
    return this.passgate.on(name, listener);
  }

  /**
   * The request's sign-in (`req.passkey`: a passkey session or the application's own user), or
   * `null`. `req` is the platform's request (Express's, or Fastify's).
   */
  getSession(req: object): Promise<SignIn | null> {
    return resolveSession(this.sessions, req);
  }

  /**
   * Keeps a sign-in the way the module's `session` option says (regenerating the express-session id),
   * then calls `onPasskeySignIn`.
   */
  async signIn(req: object, res: unknown, session: PasskeySession): Promise<void> {
    const account = await this.passgate.getAccount(session);
    await this.sessions.signIn(req, res, session, {
      id: account.userId,
      name: account.username,
      displayName: account.displayName,
    });
  }

  /** Ends the sign-in on the server, the way `POST /logout` does. */
  async signOut(req: object, res: unknown): Promise<void> {
    await this.sessions.signOut(req, res);
  }
}
