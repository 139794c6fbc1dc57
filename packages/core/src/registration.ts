import {
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type RegistrationResponseJSON,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import {
  convertCertBufferToPEM,
  decodeAttestationObject,
  decodeCredentialPublicKey,
  validateCertificatePath,
} from '@simplewebauthn/server/helpers';
import { canonicalUsername, linkedAccount, signedInAccount } from './accounts.js';
import { decodeBase64Url } from './base64url.js';
import { guardAttestationObject, guardAuthenticatorData } from './cbor-guard.js';
import {
  consumeCeremony,
  type RegistrationCeremony,
  type StoredAuthenticatorPolicy,
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
import { type ApplicationSignIn, isApplicationSignIn, type SignIn } from './sign-in.js';
import type {
  Account,
  AuthenticatorTransport,
  CredentialView,
  PasskeySession,
  PublicKeyCredentialHint,
  StoredCredential,
  UserView,
} from './types.js';
import { toCredentialView, toUserView } from './views.js';

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
  let ceremony: Pick<
    RegistrationCeremony,
    'mode' | 'userHandle' | 'userId' | 'username' | 'displayName' | 'mediation'
  >;
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
      userName = account.username;
      userDisplayName = account.displayName;
    } else {
      // Only an application's user has no account here (a Passgate session's account is checked).
      const app = signIn as ApplicationSignIn;
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
    userId: ceremony.userId ?? null,
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

  return storeNewCeremony<RegistrationCeremony, typeof options>(runtime, { rpId, origins }, options, {
    kind: 'registration',
    algorithms: policy.algorithms,
    attestation: policy.attestation.conveyance,
    allowSelfAttestation:
      policy.attestation.conveyance === 'direct' && policy.attestation.allowSelfAttestation === true,
    ...(trust ? { trust } : {}),
    authenticators: {
      deviceBoundOnly: policy.deviceBoundOnly,
      allowed: policy.allowedAaguids ? [...policy.allowedAaguids] : null,
      denied: [...policy.deniedAaguids],
    },
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
  let account: Account | null = null;
  if (state.mode !== 'signup') {
    // The passkey goes to the user who asked for the options, and only while they are still signed in.
    if (!input.session || input.session.userId !== state.userId) throw new PassgateError('unauthenticated');
    if (state.mode === 'add') account = await signedInAccount(runtime, input.session);
    else if (!isApplicationSignIn(input.session)) throw new PassgateError('unauthenticated');
  }

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

  let session: PasskeySession | null = null;
  if (state.mode === 'signup') {
    account = {
      userId: runtime.createUserId(),
      userHandle: state.userHandle,
      username: state.username as string,
      displayName: state.displayName as string,
      createdAt: credential.createdAt,
    };
    const newAccount = account;
    await runtime.store('accounts.create', () => runtime.stores.accounts.create(newAccount, credential));
    session = {
      userId: account.userId,
      userHandle: account.userHandle,
      credentialId: credential.id,
      authenticatedAt: runtime.now(),
      userVerified: info.userVerified,
    };
  } else if (state.mode === 'link') {
    account = {
      userId: state.userId as string,
      userHandle: state.userHandle,
      username: state.username as string,
      displayName: state.displayName as string,
      createdAt: credential.createdAt,
    };
    const link = account;
    await runtime.store('accounts.create', async () => {
      try {
        await runtime.stores.accounts.create(link, credential);
      } catch (error) {
        // Another first passkey of this user won the race (the create fails on the username or the
        // user id): this one was made for a user handle that will never be theirs, so it is refused
        // and the client starts again, adding one to the account that now exists.
        if (isPassgateError(error, 'credential_exists')) throw error;
        const linked = await runtime.stores.accounts.findByUserId(link.userId);
        if (linked && linked.userHandle !== link.userHandle) {
          throw new PassgateError('ceremony_expired', undefined, { reason: 'linked_meanwhile' });
        }
        throw error;
      }
    });
  } else {
    // The store checks the cap in the same atomic step as the insert, so parallel adds cannot pass it.
    const maxPerAccount = runtime.maxCredentialsPerAccount;
    await runtime.store('credentials.create', () =>
      runtime.stores.credentials.create(credential, { maxPerAccount }),
    );
  }

  const owner = account as Account;
  runtime.events.emit('registered', { account: owner, credential, signUp: state.mode === 'signup' });
  emitCredentialAdded(
    runtime,
    owner,
    credential,
    state.mode === 'signup'
      ? 'sign_up'
      : state.mediation === 'conditional'
        ? 'conditional_create'
        : 'signed_in',
  );
  return {
    user: toUserView(owner),
    credential: toCredentialView(runtime, credential),
    account: owner,
    signedUp: state.mode === 'signup',
    session,
  };
}

/** The attestation object's parts; anything that is not the expected CBOR map is `verification_failed`. */
function decodeAttestation(bytes: Uint8Array<ArrayBuffer>): { authData: Uint8Array; attStmt: unknown } {
  let decoded: ReturnType<typeof decodeAttestationObject>;
  try {
    decoded = decodeAttestationObject(bytes);
  } catch (error) {
    throw verificationFailed('malformed_attestation_object', undefined, error);
  }
  const authData = decoded instanceof Map ? decoded.get('authData') : undefined;
  if (!(authData instanceof Uint8Array)) throw verificationFailed('malformed_attestation_object');
  return { authData, attStmt: decoded.get('attStmt') };
}

function publicKeyAlgorithm(publicKey: Uint8Array<ArrayBuffer>): number | null {
  try {
    const alg = decodeCredentialPublicKey(publicKey).get(3);
    return typeof alg === 'number' ? alg : null;
  } catch {
    return null;
  }
}

/**
 * The attestation rules of the ceremony's own policy (stored with it). Certificate chains are checked
 * here against the configured roots: @simplewebauthn/server skips the chain check for formats it has
 * no roots for (packed, tpm, ... by default), so a statement signed by any self-made CA would pass.
 * The roots themselves are deployment configuration (trust anchors), read from the running instance.
 */
async function checkAttestationPolicy(
  runtime: Runtime,
  state: RegistrationCeremony,
  fmt: string,
  attStmt: unknown,
): Promise<void> {
  if (state.attestation !== 'direct') return;
  if (fmt === 'none') throw verificationFailed('attestation_required');
  const x5c = attStmt instanceof Map ? attStmt.get('x5c') : undefined;
  const chain = Array.isArray(x5c) ? x5c.filter((c): c is Uint8Array => c instanceof Uint8Array) : [];
  if (chain.length === 0) {
    if (fmt === 'packed' && state.allowSelfAttestation) return;
    throw verificationFailed('attestation_not_trusted');
  }
  const policy = runtime.policy.attestation;
  const roots = policy.conveyance === 'direct' ? (policy.rootCertificates?.[fmt] ?? []) : [];
  if (roots.length === 0) throw verificationFailed('attestation_not_trusted');
  let trusted = false;
  try {
    trusted = await validateCertificatePath(
      chain.map((cert) => convertCertBufferToPEM(cert as Uint8Array<ArrayBuffer>)),
      roots,
    );
  } catch (error) {
    throw verificationFailed('attestation_not_trusted', undefined, error);
  }
  if (!trusted) throw verificationFailed('attestation_not_trusted');
}

/**
 * The allow/deny policy stored with the ceremony when its options were made, so an instance started
 * with another configuration (a rolling deploy) verifies by the rules the options were made under.
 */
function storedAuthenticatorPolicy(runtime: Runtime, state: RegistrationCeremony): StoredAuthenticatorPolicy {
  if (state.authenticators) return state.authenticators;
  const { policy } = runtime;
  return {
    deviceBoundOnly: policy.deviceBoundOnly,
    allowed: policy.allowedAaguids ? [...policy.allowedAaguids] : null,
    denied: [...policy.deniedAaguids],
  };
}

function checkAuthenticatorPolicy(
  policy: StoredAuthenticatorPolicy,
  aaguid: string,
  backupEligible: boolean,
): void {
  if (policy.deviceBoundOnly && backupEligible) throw verificationFailed('device_bound_required');
  const id = aaguid.toLowerCase();
  if (policy.denied.includes(id)) throw verificationFailed('authenticator_not_allowed');
  if (policy.allowed && !policy.allowed.includes(id)) throw verificationFailed('authenticator_not_allowed');
}
