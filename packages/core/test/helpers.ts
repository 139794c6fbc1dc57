import { readFileSync } from 'node:fs';
import {
  type ApplicationSignIn,
  authenticationResponseSchema,
  createMemoryStores,
  type IdentifiedUser,
  Passgate,
  PassgateError,
  type PassgateEventMap,
  type PassgateEventName,
  type PassgateOptions,
  type PassgateStores,
  type PasskeySession,
  parseBody,
  registrationResponseSchema,
  silentLogger,
} from '@passgate/core';
import {
  type AuthenticationContext,
  type RegistrationContext,
  SoftwareAuthenticator,
} from '@passgate/testing';
import { decodeAttestationObject, parseAuthenticatorData } from '@simplewebauthn/server/helpers';
import { expect } from 'vitest';

export const ORIGIN = 'https://app.example.com';
export const RP_ID = 'app.example.com';
export const SECRET = 'passgate-core-tests-secret-0123456789abcdef';
export const START = Date.UTC(2030, 0, 1, 12, 0, 0);

export interface Harness {
  passgate: Passgate;
  stores: PassgateStores;
  /** The clock both the Passgate instance and the memory challenge store read; move `clock.now` by hand. */
  clock: { now: number };
  /** Every event emitted, in order. */
  events: { name: PassgateEventName; event: unknown }[];
}

export type PassgateOverrides = Partial<Omit<PassgateOptions, 'rp'>> & {
  rp?: Partial<PassgateOptions['rp']>;
};

let separateSignInReads = false;

/**
 * From now on (in this test file), `makePassgate`'s memory stores come without `signIn`, as a
 * third-party adapter's would: sign-in verifies then make the separate store calls. A test file
 * calls it before importing another test file to run that file's tests on the fallback path.
 */
export function useSeparateSignInReads(): void {
  separateSignInReads = true;
}

/** The three stores without the optional `signIn` (an adapter that does not offer it). */
export function withoutSignInStore(stores: PassgateStores): PassgateStores {
  return { challenges: stores.challenges, credentials: stores.credentials, accounts: stores.accounts };
}

/** A Passgate on memory stores and a hand-moved clock; `overrides` replace any option (rp is merged). */
export function makePassgate(
  overrides: PassgateOverrides = {},
  shared?: { stores: PassgateStores; clock: { now: number } },
): Harness {
  const clock = shared?.clock ?? { now: START };
  const memory = () => {
    const made = createMemoryStores({ now: () => clock.now });
    return separateSignInReads ? withoutSignInStore(made) : made;
  };
  const stores = overrides.stores ?? shared?.stores ?? memory();
  const { rp, ...rest } = overrides;
  const passgate = new Passgate({
    secret: SECRET,
    now: () => clock.now,
    // Failures are provoked on purpose here; tests that look at logs pass their own logger.
    logger: silentLogger,
    ...rest,
    rp: { name: 'Passgate tests', id: RP_ID, origins: [ORIGIN], ...rp },
    stores,
  });
  const events: Harness['events'] = [];
  for (const name of [
    'registered',
    'signed_in',
    'verification_failed',
    'clone_suspected',
    'credential_renamed',
    'credential_deleted',
  ] as const) {
    passgate.on(name, (event) => {
      events.push({ name, event });
    });
  }
  return { passgate, stores, clock, events };
}

export function eventsNamed<K extends PassgateEventName>(h: Harness, name: K): PassgateEventMap[K][] {
  return h.events.filter((e) => e.name === name).map((e) => e.event as PassgateEventMap[K]);
}

/** Awaits a promise that must reject with a PassgateError, and returns it. */
export async function failure(promise: Promise<unknown>): Promise<PassgateError> {
  let result: unknown;
  try {
    result = await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(PassgateError);
    return error as PassgateError;
  }
  throw new Error(`expected a PassgateError, but it resolved: ${JSON.stringify(result)?.slice(0, 300)}`);
}

export const asRegistration = (response: unknown) => parseBody(registrationResponseSchema, response);
export const asAuthentication = (response: unknown) => parseBody(authenticationResponseSchema, response);

export interface RegistrationAttemptOptions {
  username?: string;
  displayName?: string;
  session?: PasskeySession | null;
  ctx?: Partial<RegistrationContext>;
  nickname?: string;
  /** Passgate to finish on (default: the one that made the options). */
  finishOn?: Harness;
}

/** Options, then the authenticator's response; `finish()` verifies it (possibly more than once). */
export async function registrationAttempt(
  h: Harness,
  authenticator: SoftwareAuthenticator,
  o: RegistrationAttemptOptions = {},
) {
  const session = o.session ?? null;
  const start = await h.passgate.startRegistration({
    session,
    username: session ? undefined : (o.username ?? 'alice'),
    displayName: o.displayName,
  });
  const raw = await authenticator.createCredential(start.options, { origin: ORIGIN, ...o.ctx });
  const response = asRegistration(raw);
  const finish = (overrides: { ceremonyId?: string | undefined; session?: PasskeySession | null } = {}) =>
    (o.finishOn ?? h).passgate.finishRegistration({
      ceremonyId: 'ceremonyId' in overrides ? overrides.ceremonyId : start.ceremonyId,
      response,
      nickname: o.nickname,
      session: 'session' in overrides ? (overrides.session ?? null) : session,
    });
  return { start, raw, response, finish };
}

/** A complete sign-up; returns the result (with the new session). */
export async function signUp(
  h: Harness,
  authenticator: SoftwareAuthenticator,
  username = 'alice',
  o: Omit<RegistrationAttemptOptions, 'username'> = {},
) {
  const attempt = await registrationAttempt(h, authenticator, { ...o, username });
  const result = await attempt.finish();
  return {
    ...result,
    session: result.session as PasskeySession,
    response: attempt.response,
    options: attempt.start.options,
  };
}

export interface AuthenticationAttemptOptions {
  username?: string;
  ctx?: Partial<AuthenticationContext>;
  finishOn?: Harness;
}

export async function authenticationAttempt(
  h: Harness,
  authenticator: SoftwareAuthenticator,
  o: AuthenticationAttemptOptions = {},
) {
  const start = await h.passgate.startAuthentication(
    o.username === undefined ? {} : { username: o.username },
  );
  const raw = await authenticator.getAssertion(start.options, { origin: ORIGIN, ...o.ctx });
  const response = asAuthentication(raw);
  const finish = (ceremonyId: string | undefined = start.ceremonyId) =>
    (o.finishOn ?? h).passgate.finishAuthentication({ ceremonyId, response });
  return { start, raw, response, finish };
}

export async function signIn(
  h: Harness,
  authenticator: SoftwareAuthenticator,
  o: AuthenticationAttemptOptions = {},
) {
  const attempt = await authenticationAttempt(h, authenticator, o);
  return attempt.finish();
}

/**
 * Username-first options for `username`, answered by an attacker's authenticator that holds a
 * credential with the first listed id (a real one or a decoy) under its own key: a well-formed
 * assertion that cannot verify, made without the owner's authenticator.
 */
export async function forgedAttempt(h: Harness, username: string) {
  const start = await h.passgate.startAuthentication({ username });
  const listed = start.options.allowCredentials?.[0]?.id as string;
  const forger = new SoftwareAuthenticator();
  await signUp(makePassgate(), forger, 'forger', { ctx: { credentialId: bytesOf(listed) } });
  const response = asAuthentication(
    await forger.getAssertion(start.options, { origin: ORIGIN, credentialId: listed }),
  );
  const finish = () => h.passgate.finishAuthentication({ ceremonyId: start.ceremonyId, response });
  return { start, response, listed, finish };
}

/** The bytes a base64url string decodes to. */
export const bytesOf = (value: string) => new Uint8Array(Buffer.from(value, 'base64url'));
export const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

/** `depth` nested one-element CBOR arrays around a 0. */
export function nestedCborArrays(depth: number): Uint8Array {
  const bytes = new Uint8Array(depth + 1).fill(0x81);
  bytes[depth] = 0x00;
  return bytes;
}

/**
 * The W3C WebAuthn L3 test vectors, vendored as test data (facts from the spec; see the README in
 * `fixtures/w3c-vectors/`). Nothing in the repository reads outside it.
 */
export const VECTORS_URL = new URL('./fixtures/w3c-vectors/webauthn-l3-test-vectors.json', import.meta.url);

export function loadVectors(): VectorFile {
  return JSON.parse(readFileSync(VECTORS_URL, 'utf8')) as VectorFile;
}

export interface Vector {
  name: string;
  label: string;
  rpId: string;
  origin: string;
  crossOrigin: boolean;
  topOrigin?: string;
  alg: number;
  fmt: string;
  attestationType: string;
  registration: {
    challenge: string;
    credentialId: string;
    credentialIdLength: number;
    aaguid: string;
    flags: Record<'UP' | 'UV' | 'BE' | 'BS' | 'AT' | 'ED', boolean>;
    attestationObject: string;
    clientDataJSON: string;
  };
  authentication: {
    challenge: string;
    authenticatorData: string;
    clientDataJSON: string;
    signature: string;
    flags: Record<'UP' | 'UV' | 'BE' | 'BS' | 'AT' | 'ED', boolean>;
  };
}

export interface VectorFile {
  attestationRoot: { certificate: string };
  vectors: Vector[];
}

/** DER (base64url) to PEM. */
export function toPem(derBase64Url: string): string {
  const body = Buffer.from(derBase64Url, 'base64url')
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .trim();
  return `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
}

/** The W3C test vectors' self-signed P-256 attestation root, as PEM. */
export const TEST_ROOT_PEM = toPem(loadVectors().attestationRoot.certificate);

/**
 * Memory stores whose ceremonies pass through `rewrite` when consumed: the W3C vectors were made for
 * fixed challenges (and algorithms), which the stored ceremony must then carry.
 */
export function storesRewritingCeremonies(rewrite: (state: Record<string, unknown>) => void): PassgateStores {
  const base = createMemoryStores();
  return {
    ...base,
    challenges: {
      put: (id, value, ttl) => base.challenges.put(id, value, ttl),
      async consume(id) {
        const value = await base.challenges.consume(id);
        if (value === null) return value;
        const state = JSON.parse(value) as Record<string, unknown>;
        rewrite(state);
        return JSON.stringify(state);
      },
    },
  };
}

/** Rewrites a consumed registration ceremony to the challenge and algorithm `vector` was made with. */
export const ceremonyOfVector = (vector: Vector) => (state: Record<string, unknown>) => {
  state['challenge'] = vector.registration.challenge;
  state['algorithms'] = [...(state['algorithms'] as number[]), vector.alg];
};

/**
 * Puts a W3C vector's credential (and an account owning it under `userHandle`) into the stores
 * directly, so its assertion reaches the signature check even where the library cannot verify the
 * vector's registration.
 */
export async function seedVectorCredential(
  stores: PassgateStores,
  v: Vector,
  userHandle: string,
): Promise<void> {
  const attestation = decodeAttestationObject(
    bytesOf(v.registration.attestationObject) as Uint8Array<ArrayBuffer>,
  );
  const parsed = parseAuthenticatorData(attestation.get('authData'));
  await stores.accounts.create(
    { userId: `user-${v.label}`, userHandle, username: v.label, displayName: v.label, createdAt: new Date() },
    {
      id: v.registration.credentialId,
      userHandle,
      publicKey: parsed.credentialPublicKey ?? new Uint8Array(0),
      algorithm: v.alg,
      counter: 0,
      transports: [],
      backupEligible: v.registration.flags.BE,
      backedUp: v.registration.flags.BS,
      aaguid: v.registration.aaguid,
      attestationFormat: v.fmt,
      nickname: null,
      createdAt: new Date(),
      lastUsedAt: null,
    },
  );
}

/** What the application's `identify` would give for a user who signed in with a password `agoMs` ago. */
export function appUser(h: Harness, user: Partial<IdentifiedUser> = {}, agoMs = 0): ApplicationSignIn {
  const signIn = h.passgate.checkIdentifiedUser({
    userId: 'app-user-42',
    name: 'ada@example.com',
    displayName: 'Ada Lovelace',
    authenticatedAt: new Date(h.clock.now - agoMs),
    ...user,
  });
  if (!signIn) throw new Error('expected a user');
  return signIn;
}

/** The first (or a further) passkey for an application's user; `flags` reach the authenticator data. */
export async function addPasskey(
  h: Harness,
  authenticator: SoftwareAuthenticator,
  signedIn: ApplicationSignIn,
  o: { mediation?: 'conditional' | 'required'; up?: boolean; finishAs?: ApplicationSignIn | null } = {},
) {
  const start = await h.passgate.startRegistration({ session: signedIn, mediation: o.mediation });
  const raw = await authenticator.createCredential(start.options, {
    origin: ORIGIN,
    ...(o.up === false ? { flags: { up: false, uv: false } } : {}),
  });
  return {
    start,
    result: () =>
      h.passgate.finishRegistration({
        ceremonyId: start.ceremonyId,
        response: asRegistration(raw),
        session: o.finishAs === undefined ? signedIn : o.finishAs,
      }),
  };
}

/** A Passgate for an application with its own users: sign-up off, events recorded. */
export function appPassgate(overrides: PassgateOverrides = {}) {
  const h = makePassgate({ signUp: false, ...overrides });
  const added: unknown[] = [];
  const removed: unknown[] = [];
  h.passgate.on('credential_added', (e) => {
    added.push(e);
  });
  h.passgate.on('credential_removed', (e) => {
    removed.push(e);
  });
  return { ...h, added, removed };
}
