import { isBase64Url } from './base64url.js';
import { PassgateError } from './errors.js';
import type { Runtime } from './runtime.js';
import { isNameText, isUserIdText, MAX_USER_ID_LENGTH } from './schemas.js';
import type { PasskeySession } from './types.js';

/**
 * The application's own signed-in user, as an integration's `identify(req)` option reports it
 * (passport's `req.user`, the app's own session, a verified JWT). Passgate never stores it: it is
 * read again on every request.
 */
export interface IdentifiedUser {
  /** The application's user id (1..255 UTF-16 code units, without U+0000 or a lone surrogate). `User.id` in every answer; linked to a random user handle. */
  userId: string;
  /** The login name (username or email), 1..64 code points: the passkey's `user.name`. */
  name: string;
  /** The name authenticators show, up to 64 code points. Default: `name`. */
  displayName?: string | null | undefined;
  /**
   * When the user last proved who they are to the application (password, social sign-in, a passkey):
   * a `Date` or milliseconds since the epoch. It counts for the sensitive-action window (adding or
   * deleting a passkey), so give the time of that sign-in, not of the current request.
   */
  authenticatedAt: Date | number;
  /**
   * When the application's session was made by a passkey sign-in (its `onPasskeySignIn`/`onSignIn`
   * hook received it), that passkey's credential id: the session then ends when the passkey is
   * deleted. Omit it for password or social sign-ins. Needed only where Passgate keeps no session of
   * its own (JWTs); with express-session Passgate tracks it itself.
   */
  credentialId?: string | null | undefined;
}

/** A sign-in the application made, checked and normalised (`IdentifiedUser` after `checkIdentifiedUser`). */
export interface ApplicationSignIn {
  source: 'application';
  userId: string;
  name: string;
  displayName: string;
  /** Milliseconds since the epoch. */
  authenticatedAt: number;
  /** The passkey this sign-in was made with, or null for the application's own means (passwords, ...). */
  credentialId: string | null;
  /** Whether a passkey sign-in verified the user (false for the application's own means). */
  userVerified: boolean;
}

/** Who is signed in for a request: a Passgate session, or the application's own signed-in user. */
export type SignIn = PasskeySession | ApplicationSignIn;

export function isApplicationSignIn(signIn: SignIn | null | undefined): signIn is ApplicationSignIn {
  return (signIn as ApplicationSignIn | null | undefined)?.source === 'application';
}

/** The passkey a sign-in was made with, if any (a password sign-in has none). */
export function signInCredentialId(signIn: SignIn): string | null {
  return isApplicationSignIn(signIn) ? signIn.credentialId : signIn.credentialId;
}

/**
 * Checks what an `identify` option returned. Anything that is not `null`/`undefined` or a valid
 * `IdentifiedUser` is a programming error in the application: it is logged naming `option` and
 * answered `500 internal_error` (never guessed at: a wrong guess would put a passkey on the wrong user).
 */
export function checkIdentifiedUser(
  runtime: Runtime,
  value: unknown,
  option = 'identify',
): ApplicationSignIn | null {
  if (value === null || value === undefined) return null;
  const problem = identifiedUserProblem(value);
  if (problem !== null) {
    runtime.logger.error(`passgate: the \`${option}\` option returned an invalid user: ${problem}`, {
      option,
    });
    throw new PassgateError('internal_error', undefined, { reason: 'invalid_identified_user' });
  }
  const user = value as IdentifiedUser;
  const authenticatedAt =
    user.authenticatedAt instanceof Date ? user.authenticatedAt.getTime() : user.authenticatedAt;
  return {
    source: 'application',
    userId: user.userId,
    name: user.name,
    displayName: user.displayName || user.name,
    authenticatedAt,
    credentialId: user.credentialId ?? null,
    userVerified: false,
  };
}

function identifiedUserProblem(value: unknown): string | null {
  if (typeof value !== 'object' || Array.isArray(value)) return 'expected an object or null';
  const v = value as Record<string, unknown>;
  const { userId, name, displayName, authenticatedAt, credentialId } = v;
  if (!isUserIdText(userId))
    return `userId must be a string of 1 to ${MAX_USER_ID_LENGTH} characters, without U+0000 or a lone surrogate`;
  if (!isNameText(name, 1)) return 'name must be printable text of 1 to 64 characters';
  if (displayName !== undefined && displayName !== null && !isNameText(displayName, 0))
    return 'displayName must be printable text of at most 64 characters';
  const at = authenticatedAt instanceof Date ? authenticatedAt.getTime() : authenticatedAt;
  if (typeof at !== 'number' || !Number.isFinite(at) || at <= 0)
    return 'authenticatedAt must be a Date or milliseconds since the epoch';
  if (
    credentialId !== undefined &&
    credentialId !== null &&
    (typeof credentialId !== 'string' || !isBase64Url(credentialId))
  )
    return 'credentialId must be a base64url credential id';
  return null;
}

/** What `resolveSignIn` found. */
export interface ResolvedSignIn {
  /** Who is signed in now, or null. */
  signIn: SignIn | null;
  /**
   * True when a sign-in was presented but the passkey it was made with (or its account) is gone: the
   * integration ends that session (destroys it, calls the sign-out hook) and treats the request as
   * signed out.
   */
  ended: boolean;
}

/**
 * Combines Passgate's own session with the application's signed-in user and checks that a sign-in
 * made with a passkey still has it.
 *
 * - Only a Passgate session: it stands, while its passkey exists and belongs to its account.
 * - Only an application user: it stands; if it names the passkey it was made with, only while that
 *   passkey exists and belongs to that user.
 * - Both, for the same user: one sign-in (the application's names, the passkey from either).
 * - Both, for different users: the application's user (the application signed someone else in
 *   since; Passgate's older session no longer speaks for this request).
 */
export async function resolveSignIn(
  runtime: Runtime,
  session: PasskeySession | null,
  identified: ApplicationSignIn | null,
): Promise<ResolvedSignIn> {
  let signIn: SignIn | null = identified ?? session;
  if (identified && session && session.userId === identified.userId) {
    const fromSession = identified.credentialId === null || identified.credentialId === session.credentialId;
    signIn = {
      ...identified,
      credentialId: identified.credentialId ?? session.credentialId,
      authenticatedAt: Math.max(identified.authenticatedAt, session.authenticatedAt),
      userVerified: fromSession && session.userVerified,
    };
  }
  if (signIn === null) return { signIn: null, ended: false };
  const credentialId = signInCredentialId(signIn);
  if (credentialId === null) return { signIn, ended: false };
  const alive = await passkeyStillThere(runtime, signIn, credentialId);
  return alive ? { signIn, ended: false } : { signIn: null, ended: true };
}

async function passkeyStillThere(runtime: Runtime, signIn: SignIn, credentialId: string): Promise<boolean> {
  const credential = await runtime.store('credentials.findById', () =>
    runtime.stores.credentials.findById(credentialId),
  );
  if (credential === null) return false;
  if (!isApplicationSignIn(signIn)) return credential.userHandle === signIn.userHandle;
  const account = await runtime.store('accounts.findByUserId', () =>
    runtime.stores.accounts.findByUserId(signIn.userId),
  );
  return account !== null && account.userHandle === credential.userHandle;
}
