import {
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type RegistrationResponseJSON,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { decodeCredentialPublicKey } from '@simplewebauthn/server/helpers';
import { refreshStoredNames } from './account-names.js';
import { canonicalUsername, linkedAccount, signedInAccount } from './accounts.js';
import {
  authenticatorPolicySnapshot,
  checkAttestationPolicy,
  checkAuthenticatorPolicy,
  decodeAttestation,
  storedAuthenticatorPolicy,
} from './attestation-policy.js';
import { decodeBase64Url } from './base64url.js';
import { guardAttestationObject, guardAuthenticatorData } from './cbor-guard.js';
import {
  consumeCeremony,
  type RegistrationCeremony,
  type RegistrationSubject,
  storeNewCeremony,
} from './ceremony-state.js';
import { checkCredentialId, checkCrossOrigin, decodeClientData, libraryRejection } from './checks.js';
import type { RequestContext } from './config.js';
import { invalidRequest, isPassgateError, PassgateError, verificationFailed } from './errors.js';
import { checkTrust, trustForCeremony } from './metadata/policy.js';
import { emitCredentialAdded } from './passkey-events.js';
import { pooledRandomBytes } from './random-pool.js';
import type { Runtime } from './runtime.js';
import type { RegistrationResponseBody } from './schemas.js';
import { isApplicationSignIn, type SignIn } from './sign-in.js';
import type {
  Account,
  AuthenticatorTransport,
  CredentialView,
  PasskeySession,
  PublicKeyCredentialHint,
  StoredCredential,
  UserView,
} from './types.js';
import { currentNames, toCredentialView, toUserView } from './views.js';

export interface StartRegistrationInput {
  /**
   * The current sign-in, if any: then the passkey is added to that account. An application's own
   * signed-in user without a passkey yet gets their first one, which links their user id to a new
   * random user handle.
   */
  session: SignIn | null;
  /**
   * `conditional`: a conditional create (the browser saves a passkey without asking, right after a
   * password sign-in); signed in only (`unauthenticated` otherwise). Recorded with the ceremony: only
   * its verify accepts a response without user presence. Default `required`.
   */
  mediation?: 'conditional' | 'required' | undefined;
  /** Required for sign-up (no session); ignored when signed in. */
  username?: string | undefined;
  displayName?: string | undefined;
  hints?: PublicKeyCredentialHint[] | undefined;
  context?: RequestContext;
}

export interface CeremonyStart<T> {
  /** Opaque id to hand back on verify (the framework packages keep it in an HttpOnly cookie). */
  ceremonyId: string;
  options: T;
  expiresAt: Date;
}

export interface FinishRegistrationInput {
  ceremonyId: string | undefined;
  /** A `RegistrationResponseJSON`, already schema-checked by `parseBody(registrationResponseSchema, …)`. */
  response: RegistrationResponseBody;
  nickname?: string | undefined;
  session: SignIn | null;
  context?: RequestContext;
}

export interface RegistrationResult {
  user: UserView;
  credential: CredentialView;
  account: Account;
  /** True for a sign-up: a new account was created and `session` signs it in. */
  signedUp: boolean;
  /** Set for a sign-up: the sign-in to keep. */
  session: PasskeySession | null;
}

const KNOWN_TRANSPORTS = new Set<AuthenticatorTransport>([
  'ble',
  'cable',
  'hybrid',
  'internal',
  'nfc',
  'smart-card',
  'usb',
]);

export async function startRegistration(
  runtime: Runtime,
  input: StartRegistrationInput,
): Promise<CeremonyStart<PublicKeyCredentialCreationOptionsJSON>> {
  const context = input.context ?? {};
  const rpId = runtime.rpId(context);
  const origins = runtime.origins(context);
  let ceremony: RegistrationSubject;
  let userName: string;
  let userDisplayName: string;
  let exclude: { id: string; transports: AuthenticatorTransport[] }[] = [];

  if (input.session) {
    const signIn = input.session;
    const account = await linkedAccount(runtime, signIn);
    // The sign-in time counts whoever made it (a passkey, or the application's password check).
    if (
      runtime.reauthenticateToAddPasskey &&
      runtime.now() - signIn.authenticatedAt > runtime.reauthenticationWindowMs
    ) {
      throw new PassgateError('reauthentication_required');
    }
    const mediation = input.mediation === 'conditional' ? { mediation: 'conditional' as const } : {};
    if (account) {
      const credentials = await runtime.store('credentials.listByUserHandle', () =>
        runtime.stores.credentials.listByUserHandle(account.userHandle),
      );
      if (credentials.length >= runtime.maxCredentialsPerAccount)
        throw new PassgateError('too_many_credentials');
      exclude = credentials.map((c) => ({ id: c.id, transports: c.transports }));
      ceremony = { mode: 'add', userHandle: account.userHandle, userId: account.userId, ...mediation };
      // The application's current names for its user (they may have changed since the first passkey).
      const names = currentNames(signIn, account);
      userName = isApplicationSignIn(signIn) ? canonicalUsername(runtime, names.name) : names.name;
      userDisplayName = names.displayName;
      // The stored copy follows the application's current names, best effort: a name another account
      // holds leaves the copy as it is and the passkey is added all the same.
      if (isApplicationSignIn(signIn)) await refreshStoredNames(runtime, account, userName, userDisplayName);
    } else {
      // Only an application's user has no account here (a Passgate session's account is checked).
      if (!isApplicationSignIn(signIn)) throw new PassgateError('unauthenticated');
      const app = signIn;
      const username = canonicalUsername(runtime, app.name);
      const taken = await runtime.store('accounts.findByUsername', () =>
        runtime.stores.accounts.findByUsername(username),
      );
      if (taken) throw new PassgateError('username_taken');
      // A fresh random handle, never derived from the application's user id or name (§14.6.1).
      ceremony = {
        mode: 'link',
        userHandle: pooledRandomBytes(32).toString('base64url'),
        userId: app.userId,
        username,
        displayName: app.displayName,
        ...mediation,
      };
      userName = username;
      userDisplayName = app.displayName;
    }
  } else {
    if (!runtime.signUp || input.mediation === 'conditional') throw new PassgateError('unauthenticated');
    if (input.username === undefined) throw invalidRequest('username', 'username is required to sign up');
    const username = canonicalUsername(runtime, input.username);
    const existing = await runtime.store('accounts.findByUsername', () =>
      runtime.stores.accounts.findByUsername(username),
    );
    if (existing) throw new PassgateError('username_taken');
    const displayName = input.displayName?.trim() || input.username.trim() || username;
    // A fresh random handle, never derived from the username or the application's id (§14.6.1).
    ceremony = {
      mode: 'signup',
      userHandle: pooledRandomBytes(32).toString('base64url'),
      username,
      displayName,
    };
    userName = username;
    userDisplayName = displayName;
  }

  const { policy } = runtime;
  const trust = await trustForCeremony(runtime.trust, {
    userId: ceremony.mode === 'signup' ? null : ceremony.userId,
    username: userName,
  });
  const challenge = pooledRandomBytes(32);
  const options = await generateRegistrationOptions({
    rpName: runtime.rpName,
    rpID: rpId,
    userName,
    userDisplayName,
    userID: Buffer.from(ceremony.userHandle, 'base64url'),
    challenge,
    timeout: policy.timeoutMs,
    // Attested-only trust needs the statement, whatever the attestation policy asks for.
    attestationType: trust?.requireAttested ? 'direct' : policy.attestation.conveyance,
    excludeCredentials: exclude,
    authenticatorSelection: { residentKey: policy.residentKey, userVerification: policy.userVerification },
    supportedAlgorithmIDs: policy.algorithms,
  });
  options.hints = input.hints ? [...input.hints] : [];

  return storeNewCeremony(runtime, { rpId, origins }, options, {
    kind: 'registration',
    algorithms: policy.algorithms,
    attestation: policy.attestation.conveyance,
    allowSelfAttestation:
      policy.attestation.conveyance === 'direct' && policy.attestation.allowSelfAttestation === true,
    ...(trust ? { trust } : {}),
    authenticators: authenticatorPolicySnapshot(policy),
    ...ceremony,
  });
}

export async function finishRegistration(
  runtime: Runtime,
  input: FinishRegistrationInput,
): Promise<RegistrationResult> {
  let state: RegistrationCeremony | undefined;
  try {
    state = await consumeCeremony(runtime, input.ceremonyId, 'registration');
    return await completeRegistration(runtime, state, input);
  } catch (error) {
    if (isPassgateError(error) && FAILURE_CODES.has(error.code)) {
      runtime.events.emit('verification_failed', {
        ceremony: 'registration',
        code: error.code,
        reason: error.reason,
        ...(state?.mode === 'add' ? { userHandle: state.userHandle } : {}),
        credentialId: input.response.id,
      });
      if (state?.mode === 'add' && error.code === 'verification_failed') {
        // Counted against the account, but answered with its own code: the 429 of this bucket is
        // the sign-in's (contract 1.1); only a limiter failure (outage or fault) is answered instead.
        const refusal = await runtime.limits.recordAccountFailure(state.userHandle);
        if (refusal && refusal.code !== 'rate_limited') throw refusal;
      }
    }
    throw error;
  }
}

const FAILURE_CODES = new Set([
  'verification_failed',
  'ceremony_expired',
  'credential_exists',
  'username_taken',
]);

async function completeRegistration(
  runtime: Runtime,
  state: RegistrationCeremony,
  input: FinishRegistrationInput,
): Promise<RegistrationResult> {
  const { response } = input;
  const owner = await registrant(runtime, state, input.session);

  checkCredentialId(response.id, response.rawId);
  checkCrossOrigin(decodeClientData(response.response.clientDataJSON), state);

  const attestationObject = decodeBase64Url(response.response.attestationObject) as Uint8Array<ArrayBuffer>;
  guardAttestationObject(attestationObject, runtime.cborLimits);
  const attestation = decodeAttestation(attestationObject);
  guardAuthenticatorData(attestation.authData, runtime.cborLimits);

  let verification: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
  try {
    verification = await verifyRegistrationResponse({
      response: response as RegistrationResponseJSON,
      expectedChallenge: state.challenge,
      expectedOrigin: state.origins,
      expectedRPID: state.rpId,
      // Only a conditional create, as recorded when its options were made, may come without UP.
      requireUserPresence: state.mediation !== 'conditional',
      requireUserVerification: state.userVerification === 'required',
      supportedAlgorithmIDs: state.algorithms,
    });
  } catch (error) {
    throw libraryRejection(error);
  }
  if (verification.verified !== true) throw verificationFailed('attestation_invalid');
  const info = verification.registrationInfo;

  // The library does not compare the id the client reports with the one the authenticator signed.
  if (info.credential.id !== response.id) throw verificationFailed('credential_id_mismatch');
  await checkAttestationPolicy(runtime, state, info.fmt, attestation.attStmt);
  checkAuthenticatorPolicy(
    storedAuthenticatorPolicy(runtime, state),
    info.aaguid,
    info.credentialDeviceType === 'multiDevice',
  );
  if (state.trust) {
    checkTrust(state.trust, runtime.trust?.metadata, {
      aaguid: info.aaguid,
      fmt: info.fmt,
      attStmt: attestation.attStmt,
      backupEligible: info.credentialDeviceType === 'multiDevice',
      now: new Date(runtime.now()),
    });
  }

  const algorithm = publicKeyAlgorithm(info.credential.publicKey as Uint8Array<ArrayBuffer>);
  if (algorithm === null || !state.algorithms.includes(algorithm)) {
    throw verificationFailed('algorithm_not_allowed');
  }
  const nickname = input.nickname?.trim() ? input.nickname.trim() : null;
  const credential: StoredCredential = {
    id: response.id,
    userHandle: state.userHandle,
    publicKey: info.credential.publicKey,
    algorithm,
    counter: info.credential.counter,
    transports: (response.response.transports ?? []).filter((t): t is AuthenticatorTransport =>
      KNOWN_TRANSPORTS.has(t as AuthenticatorTransport),
    ),
    backupEligible: info.credentialDeviceType === 'multiDevice',
    backedUp: info.credentialBackedUp,
    aaguid: info.aaguid.toLowerCase(),
    attestationFormat: info.fmt,
    nickname,
    createdAt: new Date(runtime.now()),
    lastUsedAt: null,
  };

  const { account, session } = await saveRegistration(runtime, owner, credential, info.userVerified);
  runtime.events.emit('registered', { account, credential, signUp: state.mode === 'signup' });
  emitCredentialAdded(
    runtime,
    account,
    credential,
    state.mode === 'signup'
      ? 'sign_up'
      : state.mediation === 'conditional'
        ? 'conditional_create'
        : 'signed_in',
  );
  return {
    user: toUserView(account, input.session ?? null),
    credential: toCredentialView(runtime, credential),
    account,
    signedUp: state.mode === 'signup',
    session,
  };
}

type CeremonyOf<M extends RegistrationCeremony['mode']> = Extract<RegistrationCeremony, { mode: M }>;

/** Who the new passkey is for, with what each mode needs to store it. */
type Registrant =
  | { mode: 'signup'; state: CeremonyOf<'signup'> }
  | { mode: 'add'; state: CeremonyOf<'add'>; account: Account }
  | { mode: 'link'; state: CeremonyOf<'link'> };

/**
 * Checked before anything is verified: a signed-in mode's passkey goes to the user who asked for the
 * options, and only while they are still signed in (`unauthenticated` otherwise) and their account is
 * still the one the options were made for (`ceremony_expired` otherwise).
 */
async function registrant(
  runtime: Runtime,
  state: RegistrationCeremony,
  session: SignIn | null,
): Promise<Registrant> {
  if (state.mode === 'signup') return { mode: 'signup', state };
  if (!session || session.userId !== state.userId) throw new PassgateError('unauthenticated');
  if (state.mode === 'add') {
    const account = await signedInAccount(runtime, session);
    // Deleted and linked again since the options (an application's user): the passkey carries the
    // old user handle, which is no longer theirs and could never sign in, so the client starts again.
    if (account.userHandle !== state.userHandle) {
      throw new PassgateError('ceremony_expired', undefined, { reason: 'account_replaced' });
    }
    return { mode: 'add', state, account };
  }
  if (!isApplicationSignIn(session)) throw new PassgateError('unauthenticated');
  return { mode: 'link', state };
}

/**
 * Stores the verified credential: with a new account (`signup`, `link`, one atomic create), or under
 * the cap of the existing one (`add`). Resolves the owner, and for a sign-up the session to keep.
 */
async function saveRegistration(
  runtime: Runtime,
  owner: Registrant,
  credential: StoredCredential,
  userVerified: boolean,
): Promise<{ account: Account; session: PasskeySession | null }> {
  switch (owner.mode) {
    case 'signup': {
      const { state } = owner;
      const account: Account = {
        userId: runtime.createUserId(),
        userHandle: state.userHandle,
        username: state.username,
        displayName: state.displayName,
        createdAt: credential.createdAt,
      };
      await runtime.store('accounts.create', () => runtime.stores.accounts.create(account, credential));
      const session: PasskeySession = {
        userId: account.userId,
        userHandle: account.userHandle,
        credentialId: credential.id,
        authenticatedAt: runtime.now(),
        userVerified,
      };
      return { account, session };
    }
    case 'link': {
      const { state } = owner;
      const account: Account = {
        userId: state.userId,
        userHandle: state.userHandle,
        username: state.username,
        displayName: state.displayName,
        createdAt: credential.createdAt,
      };
      await runtime.store('accounts.create', async () => {
        try {
          await runtime.stores.accounts.create(account, credential);
        } catch (error) {
          // Another first passkey of this user won the race (the create fails on the username or the
          // user id): this one was made for a user handle that will never be theirs, so it is refused
          // and the client starts again, adding one to the account that now exists.
          if (isPassgateError(error, 'credential_exists')) throw error;
          const linked = await runtime.stores.accounts.findByUserId(account.userId);
          if (linked && linked.userHandle !== account.userHandle) {
            throw new PassgateError('ceremony_expired', undefined, { reason: 'linked_meanwhile' });
          }
          throw error;
        }
      });
      return { account, session: null };
    }
    case 'add': {
      // The store checks the cap in the same atomic step as the insert, so parallel adds cannot pass it.
      const maxPerAccount = runtime.maxCredentialsPerAccount;
      try {
        await runtime.store('credentials.create', () =>
          runtime.stores.credentials.create(credential, { maxPerAccount }),
        );
      } catch (error) {
        // A store that refuses a credential without its account (PostgreSQL's foreign key) fails
        // when the account was deleted since the ceremony began: the user is signed out, not a fault.
        if (isPassgateError(error, 'internal_error') && !(await accountStands(runtime, owner.account)))
          throw accountDeleted();
        throw error;
      }
      // The account may have been deleted between the ceremony's start and this create. Checked
      // after the create, so every order is covered: an account deleted before it is seen missing
      // here (the passkey is removed again); one deleted after it took the passkey with it.
      if (!(await accountStands(runtime, owner.account))) {
        await runtime.store('credentials.delete', () =>
          runtime.stores.credentials.delete(credential.userHandle, credential.id, { allowLast: true }),
        );
        throw accountDeleted();
      }
      return { account: owner.account, session: null };
    }
  }
}

/** Whether `account` is still stored (an account deletion may race a passkey's addition). */
async function accountStands(runtime: Runtime, account: Account): Promise<boolean> {
  const found = await runtime.store('accounts.findByUserHandle', () =>
    runtime.stores.accounts.findByUserHandle(account.userHandle),
  );
  return found !== null;
}

/** The signed-in account was deleted meanwhile: its sign-in no longer counts (`401`). */
function accountDeleted(): PassgateError {
  return new PassgateError('unauthenticated', undefined, { reason: 'account_deleted' });
}

function publicKeyAlgorithm(publicKey: Uint8Array<ArrayBuffer>): number | null {
  try {
    const alg = decodeCredentialPublicKey(publicKey).get(3);
    return typeof alg === 'number' ? alg : null;
  } catch {
    return null;
  }
}
