import { createHash, type KeyObject, randomBytes } from 'node:crypto';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import {
  type AuthenticatorDataFlags,
  aaguidToBytes,
  buildAuthenticatorData,
  rpIdHash,
} from './authenticator-data.js';
import { encodeCbor } from './cbor.js';
import {
  COSE_ALGORITHMS,
  generateSoftwareKeyPair,
  type SoftwareAlgorithm,
  signWithSoftwareKey,
  softwareAlgorithmFromCose,
} from './cose.js';

/**
 * Authenticator transport hints (WebAuthn L3 `AuthenticatorTransport` plus the legacy `cable` and
 * `smart-card`). Declared here because `@simplewebauthn/server` 14 no longer exports its
 * `AuthenticatorTransportFuture` type (it types transports as plain `string[]`).
 */
export type AuthenticatorTransportFuture =
  | 'ble'
  | 'cable'
  | 'hybrid'
  | 'internal'
  | 'nfc'
  | 'smart-card'
  | 'usb';

/**
 * The AAGUID the software authenticator reports unless told otherwise: non-zero (so it is not
 * mistaken for "no attestation/unknown model") and recognisable — the hex spells "passgate-test".
 */
export const TEST_AAGUID = '70617373-6761-7465-2d74-657374000001';

/** How a {@link SoftwareAuthenticator} behaves; every field has a realistic platform-passkey default. */
export interface SoftwareAuthenticatorOptions {
  /**
   * Key types it can create, default `['ES256', 'Ed25519', 'RS256']`. At creation it picks the first
   * entry of `options.pubKeyCredParams` (in the options' order) that is in this list, and throws a
   * `NotSupportedError` if there is none.
   */
  algorithms?: SoftwareAlgorithm[];
  /** Attestation statement format, default `'none'`; `'packed'` is self attestation (`alg` + `sig`, no `x5c`). */
  attestation?: 'none' | 'packed';
  /** Reported in `response.transports`, default `['internal', 'hybrid']`. */
  transports?: AuthenticatorTransportFuture[];
  /** Reported as `authenticatorAttachment`, default `'platform'`. */
  attachment?: 'platform' | 'cross-platform';
  /** UUID string written into attested credential data, default {@link TEST_AAGUID}. */
  aaguid?: string;
  /** Backup Eligible (BE) flag, default `false`. */
  backupEligible?: boolean;
  /** Backup State (BS) flag, default `false`. */
  backedUp?: boolean;
  /** Whether created credentials are discoverable (resident), default `true`; reported as `credProps.rk`. */
  discoverable?: boolean;
  /** Whether it performs user verification (sets UV), default `true`; see {@link SoftwareAuthenticator.setUserVerification}. */
  userVerification?: boolean;
  /**
   * Signature counter behaviour, default `'increment'`: 0 at creation, then +1 per assertion.
   * `'zero'` always reports 0, like synced passkeys.
   */
  counter?: 'increment' | 'zero';
}

/** A read-only snapshot of what the authenticator keeps for one credential. */
export interface SoftwareCredential {
  /** Credential ID, base64url. */
  readonly id: string;
  readonly rpId: string;
  /** `options.user.id` from creation, base64url. */
  readonly userHandle: string;
  readonly algorithm: SoftwareAlgorithm;
  /** The last counter value written into authenticator data. */
  readonly counter: number;
  readonly discoverable: boolean;
  /**
   * The credential public key as a CBOR COSE_Key (what a relying party stores). Extra to the
   * minimal contract: lets tests seed a relying party's store without running a registration.
   */
  readonly publicKey: Uint8Array<ArrayBuffer>;
}

/**
 * Overrides shared by both ceremonies. Only `origin` is required (the authenticator cannot guess
 * where it runs); every other field forges one thing the relying party must check (WebAuthn §7.1
 * and §7.2), so negative tests can break exactly one check at a time.
 */
export interface CeremonyOverrides {
  /** The origin written to clientDataJSON. Also the RP ID fallback when request options omit `rpId`. */
  origin: string;
  /** The RP ID hashed into authenticator data (default `options.rp.id` / `options.rpId`). */
  rpId?: string;
  /** Raw rpIdHash bytes (normally 32); wins over `rpId`. */
  rpIdHash?: Uint8Array;
  /** Base64url challenge written into clientDataJSON instead of `options.challenge`. */
  challenge?: string;
  /** clientData `type` (default `webauthn.create` / `webauthn.get`). */
  type?: string;
  /** Written to clientDataJSON only when defined. */
  crossOrigin?: boolean;
  /** Written to clientDataJSON only when defined. */
  topOrigin?: string;
  /** Raw JSON text that replaces the whole generated clientData (it is still hashed and signed). */
  clientDataJSON?: string;
  /** Each defined entry overrides the computed flag bit. */
  flags?: AuthenticatorDataFlags;
  /** Counter written into authenticator data; also stored as the credential's counter. */
  counter?: number;
  /** Bytes appended to authenticator data (and covered by the assertion/packed attestation signature). */
  trailingBytes?: Uint8Array;
  /** `response.id` override (`rawId` stays the real one unless `rawId` is given). */
  id?: string;
  /** `response.rawId` override. */
  rawId?: string;
}

/** Per-call input for {@link SoftwareAuthenticator.createCredential}. */
export interface RegistrationContext extends CeremonyOverrides {
  /** The credential ID to create (any length, even > 1023 or > 65535 bytes); default 32 random bytes. */
  credentialId?: Uint8Array;
  /** Forces the key type regardless of `pubKeyCredParams` and the authenticator's `algorithms`. */
  algorithm?: SoftwareAlgorithm;
  attestation?: 'none' | 'packed';
  transports?: AuthenticatorTransportFuture[];
  aaguid?: string;
  discoverable?: boolean;
}

/** Per-call input for {@link SoftwareAuthenticator.getAssertion}. */
export interface AuthenticationContext extends CeremonyOverrides {
  /**
   * Use this stored credential (base64url). Otherwise: the first stored credential for the RP that
   * appears in `options.allowCredentials`, or (empty/absent `allowCredentials`) the first
   * discoverable credential for the RP. Throws an Error named `NotAllowedError` if there is none.
   */
  credentialId?: string;
  /**
   * `response.userHandle` override; `null` omits it. Default: the credential's user handle for
   * discoverable credentials, omitted for non-discoverable ones.
   */
  userHandle?: string | null;
  /** Replaces the signature, or `'corrupt'` flips one bit of the real one (so it still parses). */
  signature?: Uint8Array | 'corrupt';
}

interface StoredCredential {
  id: string;
  rpId: string;
  userHandle: string;
  algorithm: SoftwareAlgorithm;
  counter: number;
  discoverable: boolean;
  publicKey: Uint8Array;
  privateKey: KeyObject;
}

const DEFAULT_ALGORITHMS: readonly SoftwareAlgorithm[] = ['ES256', 'Ed25519', 'RS256'];
const DEFAULT_TRANSPORTS: readonly AuthenticatorTransportFuture[] = ['internal', 'hybrid'];

/** Builds an `Error` whose `name` is a WebAuthn DOMException name, as browsers would reject with. */
function webAuthnError(
  name: 'NotAllowedError' | 'NotSupportedError' | 'InvalidStateError',
  message: string,
): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

function sha256(bytes: Uint8Array): Uint8Array {
  return createHash('sha256').update(bytes).digest();
}

/** Flips the lowest bit of the last byte: still a well-formed DER/raw signature, just a wrong one. */
function corrupt(signature: Uint8Array): Uint8Array {
  const copy = Uint8Array.from(signature);
  const last = copy.length - 1;
  if (last >= 0) copy[last] = (copy[last] ?? 0) ^ 0x01;
  return copy;
}

function clientDataText(
  ctx: CeremonyOverrides,
  defaultType: 'webauthn.create' | 'webauthn.get',
  challenge: string,
): string {
  if (ctx.clientDataJSON !== undefined) return ctx.clientDataJSON;
  // Member order matches what browsers serialise (WebAuthn §5.8.1.1).
  const data: Record<string, unknown> = {
    type: ctx.type ?? defaultType,
    challenge: ctx.challenge ?? challenge,
    origin: ctx.origin,
  };
  if (ctx.crossOrigin !== undefined) data['crossOrigin'] = ctx.crossOrigin;
  if (ctx.topOrigin !== undefined) data['topOrigin'] = ctx.topOrigin;
  return JSON.stringify(data);
}

/**
 * A software WebAuthn authenticator plus the client (browser) half of the ceremonies: it turns
 * options JSON into the `RegistrationResponseJSON` / `AuthenticationResponseJSON` a browser would
 * send, using only `node:crypto`. Credentials live in memory in this instance.
 *
 * Intended for tests: defaults produce responses a conforming relying party accepts, and each
 * {@link CeremonyOverrides} field breaks one relying-party check. Client-side policy is kept
 * minimal: it does not enforce `userVerification: 'required'`, `residentKey` or attestation
 * conveyance (it reports what it is configured to do and lets the relying party judge), but it does
 * refuse, like every real authenticator, to create a credential when `excludeCredentials` lists one
 * it already holds for the RP (`InvalidStateError`).
 */
export class SoftwareAuthenticator {
  readonly #algorithms: readonly SoftwareAlgorithm[];
  readonly #attestation: 'none' | 'packed';
  readonly #transports: readonly AuthenticatorTransportFuture[];
  readonly #attachment: 'platform' | 'cross-platform';
  readonly #aaguid: string;
  readonly #backupEligible: boolean;
  readonly #backedUp: boolean;
  readonly #discoverable: boolean;
  readonly #counterMode: 'increment' | 'zero';
  #userVerification: boolean;
  readonly #credentials: StoredCredential[] = [];

  constructor(options: SoftwareAuthenticatorOptions = {}) {
    this.#algorithms = [...(options.algorithms ?? DEFAULT_ALGORITHMS)];
    this.#attestation = options.attestation ?? 'none';
    this.#transports = [...(options.transports ?? DEFAULT_TRANSPORTS)];
    this.#attachment = options.attachment ?? 'platform';
    this.#aaguid = options.aaguid ?? TEST_AAGUID;
    aaguidToBytes(this.#aaguid); // fail fast on a malformed AAGUID
    this.#backupEligible = options.backupEligible ?? false;
    this.#backedUp = options.backedUp ?? false;
    this.#discoverable = options.discoverable ?? true;
    this.#userVerification = options.userVerification ?? true;
    this.#counterMode = options.counter ?? 'increment';
  }

  /** Snapshots of the stored credentials, in creation order (mutating them changes nothing). */
  get credentials(): readonly SoftwareCredential[] {
    return this.#credentials.map((c) =>
      Object.freeze({
        id: c.id,
        rpId: c.rpId,
        userHandle: c.userHandle,
        algorithm: c.algorithm,
        counter: c.counter,
        discoverable: c.discoverable,
        publicKey: Uint8Array.from(c.publicKey),
      }),
    );
  }

  /**
   * Whether later ceremonies set the UV flag (like Chrome's virtual authenticator
   * `setUserVerified`). Turning it off models a user who only proves presence.
   */
  setUserVerification(capable: boolean): void {
    this.#userVerification = capable;
  }

  /** Forgets a credential (no-op when unknown), e.g. to model a passkey deleted on the device. */
  removeCredential(id: string): void {
    const index = this.#credentials.findIndex((c) => c.id === id);
    if (index >= 0) this.#credentials.splice(index, 1);
  }

  /** The flags this authenticator sets (UP always; UV, BE, BS as configured), then any forged ones. */
  #flags(attestedCredentialData: boolean, ctx: CeremonyOverrides): AuthenticatorDataFlags {
    return {
      up: true,
      uv: this.#userVerification,
      be: this.#backupEligible,
      bs: this.#backedUp,
      at: attestedCredentialData,
      ed: false,
      ...definedFlags(ctx.flags),
    };
  }

  /**
   * `navigator.credentials.create()`: creates and stores a credential for `options.rp.id` (or
   * `ctx.rpId`) and returns the registration response, with `credProps` and `getPublicKey()`-style
   * `publicKey`/`publicKeyAlgorithm`/`authenticatorData` fields filled in.
   */
  async createCredential(
    options: PublicKeyCredentialCreationOptionsJSON,
    ctx: RegistrationContext,
  ): Promise<RegistrationResponseJSON> {
    // The credential is scoped to the options' RP; ctx.rpId only forges what is hashed.
    const rpId = options.rp.id ?? new URL(ctx.origin).hostname;
    const algorithm = ctx.algorithm ?? this.#pickAlgorithm(options);

    const excluded = new Set((options.excludeCredentials ?? []).map((d) => d.id));
    const clash = this.#credentials.find((c) => c.rpId === rpId && excluded.has(c.id));
    if (clash) {
      throw webAuthnError(
        'InvalidStateError',
        `The authenticator already holds credential ${clash.id} listed in excludeCredentials for ${rpId}`,
      );
    }

    const credentialIdBytes = ctx.credentialId ?? randomBytes(32);
    const credentialId = b64url(credentialIdBytes);
    const keyPair = generateSoftwareKeyPair(algorithm);
    const discoverable = ctx.discoverable ?? this.#discoverable;
    const counter = ctx.counter ?? 0;

    const clientDataJSON = Buffer.from(clientDataText(ctx, 'webauthn.create', options.challenge), 'utf8');
    const authenticatorData = buildAuthenticatorData({
      rpIdHash: ctx.rpIdHash ?? rpIdHash(ctx.rpId ?? rpId),
      flags: this.#flags(true, ctx),
      counter,
      attestedCredentialData: {
        aaguid: aaguidToBytes(ctx.aaguid ?? this.#aaguid),
        credentialId: credentialIdBytes,
        cosePublicKey: keyPair.cosePublicKey,
      },
      ...(ctx.trailingBytes ? { trailingBytes: ctx.trailingBytes } : {}),
    });

    const format = ctx.attestation ?? this.#attestation;
    const attStmt =
      format === 'packed'
        ? new Map<string, number | Uint8Array>([
            ['alg', COSE_ALGORITHMS[algorithm]],
            [
              'sig',
              signWithSoftwareKey(
                algorithm,
                keyPair.privateKey,
                Buffer.concat([authenticatorData, sha256(clientDataJSON)]),
              ),
            ],
          ])
        : new Map<string, never>();
    const attestationObject = encodeCbor(
      new Map<string, string | Uint8Array | Map<string, number | Uint8Array>>([
        ['fmt', format],
        ['attStmt', attStmt],
        ['authData', authenticatorData],
      ]),
    );

    const stored: StoredCredential = {
      id: credentialId,
      rpId,
      userHandle: options.user.id,
      algorithm,
      counter,
      discoverable,
      publicKey: keyPair.cosePublicKey,
      privateKey: keyPair.privateKey,
    };
    const existing = this.#credentials.findIndex((c) => c.id === credentialId);
    if (existing >= 0) this.#credentials.splice(existing, 1, stored);
    else this.#credentials.push(stored);

    return {
      id: ctx.id ?? credentialId,
      rawId: ctx.rawId ?? credentialId,
      type: 'public-key',
      response: {
        clientDataJSON: b64url(clientDataJSON),
        attestationObject: b64url(attestationObject),
        transports: [...(ctx.transports ?? this.#transports)],
        publicKeyAlgorithm: COSE_ALGORITHMS[algorithm],
        publicKey: b64url(keyPair.spkiPublicKey),
        authenticatorData: b64url(authenticatorData),
      },
      authenticatorAttachment: this.#attachment,
      clientExtensionResults: { credProps: { rk: discoverable } },
    };
  }

  /**
   * `navigator.credentials.get()`: picks a credential (see {@link AuthenticationContext.credentialId}),
   * signs `authenticatorData || SHA-256(clientDataJSON)` and stores the counter it wrote.
   */
  async getAssertion(
    options: PublicKeyCredentialRequestOptionsJSON,
    ctx: AuthenticationContext,
  ): Promise<AuthenticationResponseJSON> {
    // Credentials are looked up for the requested RP; ctx.rpId only forges what is hashed.
    const rpId = options.rpId ?? new URL(ctx.origin).hostname;
    const credential = this.#selectCredential(options, ctx, rpId);

    const counter = ctx.counter ?? (this.#counterMode === 'increment' ? credential.counter + 1 : 0);
    const clientDataJSON = Buffer.from(clientDataText(ctx, 'webauthn.get', options.challenge), 'utf8');
    const authenticatorData = buildAuthenticatorData({
      rpIdHash: ctx.rpIdHash ?? rpIdHash(ctx.rpId ?? rpId),
      flags: this.#flags(false, ctx),
      counter,
      ...(ctx.trailingBytes ? { trailingBytes: ctx.trailingBytes } : {}),
    });
    credential.counter = counter;

    let signature: Uint8Array;
    if (ctx.signature instanceof Uint8Array) {
      signature = ctx.signature;
    } else {
      signature = signWithSoftwareKey(
        credential.algorithm,
        credential.privateKey,
        Buffer.concat([authenticatorData, sha256(clientDataJSON)]),
      );
      if (ctx.signature === 'corrupt') signature = corrupt(signature);
    }

    const userHandle =
      ctx.userHandle === undefined
        ? credential.discoverable
          ? credential.userHandle
          : undefined
        : ctx.userHandle;

    return {
      id: ctx.id ?? credential.id,
      rawId: ctx.rawId ?? credential.id,
      type: 'public-key',
      response: {
        clientDataJSON: b64url(clientDataJSON),
        authenticatorData: b64url(authenticatorData),
        signature: b64url(signature),
        ...(userHandle != null ? { userHandle } : {}),
      },
      authenticatorAttachment: this.#attachment,
      clientExtensionResults: {},
    };
  }

  #pickAlgorithm(options: PublicKeyCredentialCreationOptionsJSON): SoftwareAlgorithm {
    for (const param of options.pubKeyCredParams) {
      if (param.type !== 'public-key') continue;
      const algorithm = softwareAlgorithmFromCose(param.alg);
      if (algorithm && this.#algorithms.includes(algorithm)) return algorithm;
    }
    const offered = options.pubKeyCredParams.map((p) => p.alg).join(', ');
    throw webAuthnError(
      'NotSupportedError',
      `None of the offered algorithms [${offered}] is supported by this authenticator (${this.#algorithms.join(', ')})`,
    );
  }

  #selectCredential(
    options: PublicKeyCredentialRequestOptionsJSON,
    ctx: AuthenticationContext,
    rpId: string,
  ): StoredCredential {
    if (ctx.credentialId !== undefined) {
      const found = this.#credentials.find((c) => c.id === ctx.credentialId);
      if (!found) throw webAuthnError('NotAllowedError', `No stored credential with id ${ctx.credentialId}`);
      return found;
    }
    const allowed = options.allowCredentials ?? [];
    if (allowed.length > 0) {
      const ids = new Set(allowed.map((d) => d.id));
      const found = this.#credentials.find((c) => c.rpId === rpId && ids.has(c.id));
      if (!found) {
        throw webAuthnError('NotAllowedError', `No stored credential for ${rpId} matches allowCredentials`);
      }
      return found;
    }
    const found = this.#credentials.find((c) => c.rpId === rpId && c.discoverable);
    if (!found) throw webAuthnError('NotAllowedError', `No discoverable credential stored for ${rpId}`);
    return found;
  }
}

/** Keeps only the flag overrides that were actually given, so `undefined` never clears a computed bit. */
function definedFlags(flags: AuthenticatorDataFlags | undefined): AuthenticatorDataFlags {
  const out: AuthenticatorDataFlags = {};
  if (!flags) return out;
  for (const key of ['up', 'uv', 'be', 'bs', 'at', 'ed'] as const) {
    const value = flags[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}
