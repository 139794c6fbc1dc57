import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  type PublicKeyCredentialRequestOptionsJSON,
  type VerifiedAuthenticationResponse,
} from '@simplewebauthn/server';
import { canonicalUsername } from './accounts.js';
import { base64UrlByteLength, decodeBase64Url } from './base64url.js';
import { guardAuthenticatorData } from './cbor-guard.js';
import {
  type AuthenticationCeremony,
  ceremonyOfKind,
  consumeCeremony,
  isCeremonyId,
  storeNewCeremony,
} from './ceremony-state.js';
import {
  checkCredentialId,
  checkCrossOrigin,
  decodeClientData,
  libraryRejection,
  MAX_CREDENTIAL_ID_BYTES,
  readFlags,
} from './checks.js';
import type { RequestContext } from './config.js';
import { decoyCredentials, decoyUserHandle } from './decoys.js';
import { isPassgateError, PassgateError, verificationFailed } from './errors.js';
import { pooledRandomBytes } from './random-pool.js';
import type { CeremonyStart } from './registration.js';
import { countedInStore, countsInStore, countWithLimiter, type RequestCount } from './request-count.js';
import type { Runtime } from './runtime.js';
import type { AuthenticationResponseBody } from './schemas.js';
import type { SignInReads } from './stores.js';
import type {
  Account,
  AuthenticatorTransport,
  CredentialView,
  PasskeySession,
  PendingSignIn,
  PublicKeyCredentialHint,
  StoredCredential,
  UserView,
} from './types.js';
import { toCredentialView, toUserView } from './views.js';

export interface StartAuthenticationInput {
  /** Username-first sign-in (security keys); omit for usernameless sign-in and browser autofill. */
  username?: string | undefined;
  hints?: PublicKeyCredentialHint[] | undefined;
  context?: RequestContext;
  /**
   * Counts this request against its IP's per-IP bucket (what `consumeRequestLimit` does), in the
   * same store operation as the ceremony's write when the stores offer it (`CountingStore`), else
   * with the limiter before anything else. Rejects with `rate_limited` when refused, having stored
   * nothing. Omitted: not counted here (the contract handler passes one).
   */
  count?: RequestCount | undefined;
}

export interface FinishAuthenticationInput {
  ceremonyId: string | undefined;
  /** An `AuthenticationResponseJSON`, already schema-checked by `parseBody(authenticationResponseSchema, …)`. */
  response: AuthenticationResponseBody;
  context?: RequestContext;
  /**
   * Counts this request against its IP's per-IP bucket, in the same store operation as the
   * ceremony's consume when the stores offer it (`CountingStore`), else with the limiter before
   * anything else. Rejects with `rate_limited` when refused, having consumed nothing (the ceremony
   * stays pending). Omitted: not counted here (the contract handler passes one).
   */
  count?: RequestCount | undefined;
  /**
   * Starts keeping the sign-in (writing its session) once the assertion is verified, while the
   * credential's counter update is still in flight; `undefined` when it cannot (then the caller
   * keeps it afterwards, as without this option). The sign-in resolves only after both writes;
   * when the update refuses it (`credential_cloned`) or fails, the kept session is undone first.
   */
  beginSignIn?: ((session: PasskeySession) => PendingSignIn | undefined) | undefined;
}

export interface AuthenticationResult {
  user: UserView;
  /** The credential as it is after this sign-in (counter, backup state, last used). */
  credential: CredentialView;
  account: Account;
  /** The sign-in to keep in the session. */
  session: PasskeySession;
  /** Whether `beginSignIn` kept it already (the caller must not keep it again). */
  kept: boolean;
}

export async function startAuthentication(
  runtime: Runtime,
  input: StartAuthenticationInput,
): Promise<CeremonyStart<PublicKeyCredentialRequestOptionsJSON>> {
  const context = input.context ?? {};
  const rpId = runtime.rpId(context);
  const origins = runtime.origins(context);
  let allow: { id: string; transports: AuthenticatorTransport[] }[] | null = null;
  let failureKey: string | undefined;
  // Counted with the ceremony's write when the store can (the username's reads before it write
  // nothing); otherwise now, before any store call, as the limiter always was.
  if (!countsInStore(runtime, input.count)) await countWithLimiter(runtime, input.count);

  if (input.username !== undefined) {
    const username = canonicalUsername(runtime, input.username);
    const found = await findForSignIn(runtime, username);
    const credentials = found.credentials;
    failureKey = found.failureKey;
    // An account without passkeys gets decoys too: the response never says which usernames exist.
    allow =
      credentials.length > 0
        ? credentials.map((c) => ({ id: c.id, transports: [...c.transports] }))
        : decoyCredentials(runtime.secret, username, runtime.maxCredentialsPerAccount);
  }

  const { policy } = runtime;
  const options = await generateAuthenticationOptions({
    rpID: rpId,
    allowCredentials: allow ?? [],
    challenge: pooledRandomBytes(32),
    timeout: policy.timeoutMs,
    userVerification: policy.userVerification,
  });
  options.hints = input.hints ? [...input.hints] : [];

  return storeNewCeremony(
    runtime,
    { rpId, origins },
    options,
    {
      kind: 'authentication',
      allowCredentialIds: allow ? allow.map((c) => c.id) : null,
      ...(failureKey !== undefined ? { failureKey } : {}),
    },
    input.count,
  );
}

/**
 * The credentials of the account with `username` (`[]` for none or no account): one round trip when
 * the stores offer `signIn`, otherwise two. An unknown username's credentials are looked up under a
 * stable stand-in handle, so it costs the same store work as a known one (the timing says nothing),
 * and that handle keys its failure bucket (a 429 says nothing either): `failureKey`.
 */
async function findForSignIn(
  runtime: Runtime,
  username: string,
): Promise<{ credentials: StoredCredential[]; failureKey: string }> {
  const standIn = decoyUserHandle(runtime.secret, username);
  const signIn = runtime.signInStore;
  if (signIn !== null) {
    const found = await runtime.store('signIn.findForSignIn', () => signIn.findForSignIn(username, standIn));
    return found.account
      ? { credentials: found.credentials, failureKey: found.account.userHandle }
      : { credentials: [], failureKey: standIn };
  }
  const account = await runtime.store('accounts.findByUsername', () =>
    runtime.stores.accounts.findByUsername(username),
  );
  const userHandle = account?.userHandle ?? standIn;
  const listed = await runtime.store('credentials.listByUserHandle', () =>
    runtime.stores.credentials.listByUserHandle(userHandle),
  );
  return account ? { credentials: listed, failureKey: userHandle } : { credentials: [], failureKey: standIn };
}

/** Codes that count as a failed verification against the account's failure bucket. */
const COUNTED = new Set(['verification_failed', 'credential_cloned']);
/** Codes reported through the `verification_failed` event. */
const REPORTED = new Set([
  'verification_failed',
  'credential_cloned',
  'ceremony_expired',
  'unknown_credential',
]);

export async function finishAuthentication(
  runtime: Runtime,
  input: FinishAuthenticationInput,
): Promise<AuthenticationResult> {
  // The owner, once known, for the event; the failure bucket's key, once known, to count a failure.
  const known: { userHandle?: string; failureKey?: string } = {};
  try {
    const { state, stored, owner } = await readForSignIn(
      runtime,
      input.ceremonyId,
      input.response.id,
      input.count,
    );
    // Username-first: the username's bucket (known or not, alike); discoverable: the owner's.
    const failureKey = state.failureKey ?? owner?.userHandle;
    if (failureKey !== undefined) known.failureKey = failureKey;
    return await completeAuthentication(runtime, state, input, known, stored, owner);
  } catch (error) {
    if (isPassgateError(error) && REPORTED.has(error.code)) {
      runtime.events.emit('verification_failed', {
        ceremony: 'authentication',
        code: error.code,
        reason: error.reason,
        credentialId: input.response.id,
        ...(known.userHandle ? { userHandle: known.userHandle } : {}),
      });
      // Only failures are counted, after verifying: a validly signed assertion never meets the
      // bucket, so bad assertions from others cannot lock the owner out. The count is one atomic
      // consume, so parallel failures cannot slip past the limit.
      if (known.failureKey !== undefined && COUNTED.has(error.code)) {
        const refusal = await runtime.limits.recordAccountFailure(known.failureKey);
        if (refusal) throw refusal;
      }
    }
    throw error;
  }
}

async function completeAuthentication(
  runtime: Runtime,
  state: AuthenticationCeremony,
  input: FinishAuthenticationInput,
  known: { userHandle?: string; failureKey?: string },
  stored: StoredCredential | null,
  account: Account | null,
): Promise<AuthenticationResult> {
  const { response } = input;
  checkCredentialId(response.id, response.rawId);
  // Username-first: only a credential the options listed (§7.2 step 5).
  if (state.allowCredentialIds && !state.allowCredentialIds.includes(response.id)) {
    throw verificationFailed('credential_not_allowed');
  }
  checkCrossOrigin(decodeClientData(response.response.clientDataJSON), state);
  const authData = decodeBase64Url(response.response.authenticatorData) as Uint8Array<ArrayBuffer>;
  guardAuthenticatorData(authData, runtime.cborLimits);

  // Username-first, a listed id without a credential (a decoy, or deleted since) fails exactly as
  // a bad assertion for a real account does, so the answer does not tell the two apart.
  if (!stored) throw unknownCredential(state, response.id);
  // §7.2 step 6, username-first: the passkey must be the identified account's. The options listed
  // only its ids, but an authenticator picks its own ids: by now another account may hold a listed
  // one (a decoy's, or a deleted passkey's). An unknown username's stand-in handle is nobody's.
  if (state.failureKey !== undefined && stored.userHandle !== state.failureKey) {
    throw verificationFailed('credential_not_owned');
  }

  // §7.2 step 6: the user handle, when given, must be the owner's; usernameless sign-in must give it.
  const userHandle = response.response.userHandle ?? null;
  if (state.allowCredentialIds === null && !userHandle) throw verificationFailed('user_handle_missing');
  if (userHandle && userHandle !== stored.userHandle) throw verificationFailed('user_handle_mismatch');

  if (!account) throw unknownCredential(state, response.id);
  known.userHandle = account.userHandle;

  let verification: VerifiedAuthenticationResponse;
  try {
    // The library's checks and verdicts, with the imported key cached per credential (fast-assertion.ts).
    verification = await runtime.assertions.verify({
      response: response as AuthenticationResponseJSON,
      expectedChallenge: state.challenge,
      expectedOrigin: state.origins,
      expectedRPID: state.rpId,
      ...(state.topOrigins.length > 0 ? { expectedTopOrigin: state.topOrigins } : {}),
      requireUserVerification: state.userVerification === 'required',
      // Counter 0 keeps the library from rejecting on the counter before it has checked the
      // signature: the clone rule below needs to know the assertion was validly signed.
      credential: {
        id: stored.id,
        publicKey: stored.publicKey as Uint8Array<ArrayBuffer>,
        counter: 0,
        transports: stored.transports,
      },
    });
  } catch (error) {
    throw libraryRejection(error);
  }
  if (verification.verified !== true) throw verificationFailed('signature_invalid');
  const info = verification.authenticationInfo;

  const flags = readFlags(authData);
  if (!flags.up) throw verificationFailed('user_presence_missing');
  if (state.userVerification === 'required' && !flags.uv)
    throw verificationFailed('user_verification_missing');
  if (flags.bs && !flags.be) throw verificationFailed('backup_flags_invalid');
  // Backup eligibility is fixed when the credential is created (§6.1.3).
  if (flags.be !== stored.backupEligible) throw verificationFailed('backup_eligibility_changed');

  const session: PasskeySession = {
    userId: account.userId,
    userHandle: account.userHandle,
    credentialId: stored.id,
    authenticatedAt: runtime.now(),
    userVerified: flags.uv,
  };
  // Everything the session holds is known now: its write may overlap the counter update's. The
  // sign-in stands only if the update does, so a refused or failed update undoes the session first.
  // A counter that already fails the clone rule writes no session: applySignIn refuses it below.
  const pending = counterRegressed(info.newCounter, stored.counter)
    ? undefined
    : input.beginSignIn?.(session);
  // Handled from the start: a write that fails while the update is in flight must not surface as
  // an unhandled rejection (it is awaited, or undone, below).
  pending?.kept.catch(() => {});
  let updated: StoredCredential;
  try {
    updated = await applySignIn(runtime, account, stored, info.newCounter, flags.bs);
  } catch (error) {
    if (pending) await undoPendingSignIn(runtime, pending);
    throw error;
  }
  if (pending) await pending.kept;
  runtime.events.emit('signed_in', { account, credential: updated, userVerified: flags.uv });
  return {
    user: toUserView(account),
    credential: toCredentialView(runtime, updated),
    account,
    session,
    kept: pending !== undefined,
  };
}

/** Removes a session kept for a sign-in that did not stand; a failure to remove it is logged, not thrown. */
async function undoPendingSignIn(runtime: Runtime, pending: PendingSignIn): Promise<void> {
  try {
    await pending.undo();
  } catch (error) {
    // The session's id never reached the browser (no cookie goes out with the error), so the row
    // left behind signs no one in; it expires with the store's TTL.
    runtime.logger.warn('passgate: could not remove the session of a sign-in that did not stand', {
      message: error instanceof Error ? error.message : String(error),
    });
  }
}

/**
 * No stored credential (or owner) for the assertion's id: in the discoverable flow `unknown_credential`
 * (the client may signal it to the authenticator); username-first, `verification_failed`, as for any
 * bad assertion (contract 1.1: an unknown username's decoys must not be told apart from real ids).
 */
function unknownCredential(state: AuthenticationCeremony, credentialId: string): PassgateError {
  if (state.allowCredentialIds !== null) return verificationFailed('credential_not_found');
  return new PassgateError('unknown_credential', undefined, { credentialId });
}

/** Whether `id` can name a stored credential at all (ids too long to be one are checked after consuming). */
function isCredentialIdLength(id: string): boolean {
  return id.length > 0 && base64UrlByteLength(id) <= MAX_CREDENTIAL_ID_BYTES;
}

/**
 * The verify's first reads: consume the ceremony, and read the credential the assertion names with
 * its owner's account. One round trip when the stores offer `signIn` (`stores.ts`), counting the
 * request's per-IP limit in it too when they offer `counting`; otherwise the credential first, then
 * the consume and the account together (two round trips of latency).
 * Throws `ceremony_expired` when the ceremony is not there (or not a sign-in's), after consuming it;
 * `rate_limited` when the per-IP bucket refused the request, before consuming anything.
 */
async function readForSignIn(
  runtime: Runtime,
  ceremonyId: string | undefined,
  credentialId: string,
  count: RequestCount | undefined,
): Promise<{ state: AuthenticationCeremony; stored: StoredCredential | null; owner: Account | null }> {
  const wellFormed = isCeremonyId(ceremonyId) && isCredentialIdLength(credentialId);
  if (wellFormed && countsInStore(runtime, count)) {
    return fromSignInReads(
      await countedInStore(runtime, count, 'counting.consumeForSignInCounted', (store, key) =>
        store.consumeForSignInCounted(key, ceremonyId as string, credentialId),
      ),
    );
  }
  await countWithLimiter(runtime, count);
  const signIn = runtime.signInStore;
  if (signIn !== null && wellFormed) {
    return fromSignInReads(
      await runtime.store('signIn.consumeForSignIn', () =>
        signIn.consumeForSignIn(ceremonyId as string, credentialId),
      ),
    );
  }
  const stored = isCredentialIdLength(credentialId)
    ? await runtime.store('credentials.findById', () => runtime.stores.credentials.findById(credentialId))
    : null;
  // Consuming the ceremony and reading the owner's account do not depend on each other: run them
  // together, so a network store costs one round trip of latency for both.
  const [state, owner] = await Promise.all([
    consumeCeremony(runtime, ceremonyId, 'authentication'),
    stored
      ? runtime.store('accounts.findByUserHandle', () =>
          runtime.stores.accounts.findByUserHandle(stored.userHandle),
        )
      : null,
  ]);
  return { state, stored, owner };
}

/** A one-operation sign-in read as `readForSignIn` resolves it (`ceremony_expired` when there is no ceremony). */
function fromSignInReads(read: SignInReads): {
  state: AuthenticationCeremony;
  stored: StoredCredential | null;
  owner: Account | null;
} {
  const state = ceremonyOfKind(read.ceremony, 'authentication');
  return { state, stored: read.credential, owner: read.credential ? read.account : null };
}

/** §7.2 step 21: a counter that does not increase while either value is non-zero (a possible clone). */
function counterRegressed(received: number, stored: number): boolean {
  return (received !== 0 || stored !== 0) && received <= stored;
}

/**
 * The signature counter rule (§7.2 step 21) and the update, by compare-and-set so two sign-ins racing
 * on one credential cannot both move the counter from the same value. A counter that does not
 * increase while either value is non-zero is a possible clone: reported, and the credential is left
 * untouched. Authenticators that always send 0 (synced passkeys) pass.
 */
async function applySignIn(
  runtime: Runtime,
  account: Account,
  credential: StoredCredential,
  counter: number,
  backedUp: boolean,
): Promise<StoredCredential> {
  let current = credential;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (counterRegressed(counter, current.counter)) {
      runtime.events.emit('clone_suspected', { account, credential: current, receivedCounter: counter });
      throw new PassgateError('credential_cloned', undefined, { reason: 'counter_not_increased' });
    }
    const expected = current;
    const updated = await runtime.store('credentials.updateAfterSignIn', () =>
      runtime.stores.credentials.updateAfterSignIn({
        id: expected.id,
        expectedCounter: expected.counter,
        counter,
        backedUp,
        lastUsedAt: new Date(runtime.now()),
      }),
    );
    if (updated) return updated;
    const fresh = await runtime.store('credentials.findById', () =>
      runtime.stores.credentials.findById(expected.id),
    );
    if (!fresh) throw new PassgateError('unknown_credential', undefined, { credentialId: expected.id });
    current = fresh;
  }
  throw new PassgateError('credential_cloned', undefined, { reason: 'counter_contended' });
}
