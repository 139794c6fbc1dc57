import { createPublicKey } from 'node:crypto';
import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type RegistrationResponseJSON,
  type VerifiedRegistrationResponse,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type WebAuthnCredential,
} from '@simplewebauthn/server';
import { decodeAttestationObject, isoCBOR, parseAuthenticatorData } from '@simplewebauthn/server/helpers';
import { describe, expect, it } from 'vitest';
import {
  COSE_ALGORITHMS,
  encodeCbor,
  type SoftwareAlgorithm,
  SoftwareAuthenticator,
  type SoftwareAuthenticatorOptions,
  TEST_AAGUID,
} from '../src/authenticator/index.js';

const RP_ID = 'passgate.test';
const ORIGIN = 'https://passgate.test';
const ALGORITHMS: SoftwareAlgorithm[] = ['ES256', 'Ed25519', 'RS256'];

let userCounter = 0;
function userId(): Uint8Array<ArrayBuffer> {
  userCounter += 1;
  return new TextEncoder().encode(`user-${userCounter}`);
}

async function registrationOptions(
  extra: Partial<Parameters<typeof generateRegistrationOptions>[0]> = {},
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  return generateRegistrationOptions({
    rpName: 'Passgate',
    rpID: RP_ID,
    userName: 'alice',
    userID: userId(),
    ...extra,
  });
}

async function verifyRegistration(
  response: RegistrationResponseJSON,
  options: PublicKeyCredentialCreationOptionsJSON,
): Promise<VerifiedRegistrationResponse> {
  return verifyRegistrationResponse({
    response,
    expectedChallenge: options.challenge,
    expectedOrigin: ORIGIN,
    expectedRPID: RP_ID,
  });
}

/** Registers a credential and returns what a relying party would store for it. */
async function register(
  authenticator: SoftwareAuthenticator,
  extra: Partial<Parameters<typeof generateRegistrationOptions>[0]> = {},
): Promise<{ credential: WebAuthnCredential; userHandle: string }> {
  const options = await registrationOptions(extra);
  const result = await verifyRegistration(
    await authenticator.createCredential(options, { origin: ORIGIN }),
    options,
  );
  expect(result.verified).toBe(true);
  return { credential: { ...result.registrationInfo!.credential }, userHandle: options.user.id };
}

async function authenticate(
  authenticator: SoftwareAuthenticator,
  credential: WebAuthnCredential,
  opts: { allow?: boolean; ctx?: Partial<Parameters<SoftwareAuthenticator['getAssertion']>[1]> } = {},
): Promise<{
  response: AuthenticationResponseJSON;
  verify: () => ReturnType<typeof verifyAuthenticationResponse>;
}> {
  const options = await generateAuthenticationOptions({
    rpID: RP_ID,
    allowCredentials: opts.allow ? [{ id: credential.id }] : [],
  });
  const response = await authenticator.getAssertion(options, { origin: ORIGIN, ...opts.ctx });
  return {
    response,
    verify: () =>
      verifyAuthenticationResponse({
        response,
        expectedChallenge: options.challenge,
        expectedOrigin: ORIGIN,
        expectedRPID: RP_ID,
        credential,
      }),
  };
}

describe('encodeCbor', () => {
  it('matches RFC 8949 Appendix A vectors', () => {
    const vectors: [Parameters<typeof encodeCbor>[0], string][] = [
      [0, '00'],
      [23, '17'],
      [24, '1818'],
      [1000, '1903e8'],
      [1000000, '1a000f4240'],
      [1000000000000, '1b000000e8d4a51000'],
      [-1, '20'],
      [-100, '3863'],
      [-1000, '3903e7'],
      ['', '60'],
      ['IETF', '6449455446'],
      [Uint8Array.of(1, 2, 3, 4), '4401020304'],
      [[1, [2, 3], [4, 5]], '8301820203820405'],
      [{ a: 1, b: [2, 3] }, 'a26161016162820203'],
      [true, 'f5'],
      [false, 'f4'],
      [null, 'f6'],
    ];
    for (const [value, hex] of vectors) {
      expect(Buffer.from(encodeCbor(value)).toString('hex')).toBe(hex);
    }
    expect(() => encodeCbor(1.5)).toThrow(TypeError);
  });

  it('round-trips through a real decoder with Map key order preserved', () => {
    const value = new Map<number | string, number | Uint8Array | string>([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, new Uint8Array(300).fill(7)],
      ['text', 'x'.repeat(70_000)],
    ]);
    const encoded = encodeCbor(value);
    expect(Buffer.from(isoCBOR.encode(isoCBOR.decodeFirst(encoded)))).toEqual(Buffer.from(encoded));
  });
});

describe('SoftwareAuthenticator registration', () => {
  describe.each(ALGORITHMS)('%s', (algorithm) => {
    it.each(['none', 'packed'] as const)(
      '%s attestation verifies and the credential then authenticates',
      async (attestation) => {
        const authenticator = new SoftwareAuthenticator({ algorithms: [algorithm], attestation });
        const options = await registrationOptions();
        const response = await authenticator.createCredential(options, { origin: ORIGIN });
        expect(response.response.publicKeyAlgorithm).toBe(COSE_ALGORITHMS[algorithm]);

        const result = await verifyRegistration(response, options);
        expect(result.verified).toBe(true);
        const info = result.registrationInfo!;
        expect(info.fmt).toBe(attestation);
        expect(info.credential.id).toBe(response.id);
        expect(info.credential.counter).toBe(0);
        expect(info.userVerified).toBe(true);

        // The SPKI `publicKey` is the same key as the COSE key in the attestation.
        const spki = createPublicKey({
          key: Buffer.from(response.response.publicKey!, 'base64url'),
          format: 'der',
          type: 'spki',
        });
        expect(spki.asymmetricKeyType).toBe({ ES256: 'ec', Ed25519: 'ed25519', RS256: 'rsa' }[algorithm]);
        const cose = isoCBOR.decodeFirst<Map<number, unknown>>(info.credential.publicKey);
        expect(cose.get(3)).toBe(COSE_ALGORITHMS[algorithm]);
        const jwk = spki.export({ format: 'jwk' });
        expect(Buffer.from(cose.get(-2) as Uint8Array).toString('base64url')).toBe(
          algorithm === 'RS256' ? jwk.e : jwk.x,
        );

        const { verify } = await authenticate(authenticator, { ...info.credential });
        await expect(verify()).resolves.toMatchObject({
          verified: true,
          authenticationInfo: { newCounter: 1 },
        });
      },
    );

    it('a corrupted assertion signature is rejected (verified: false)', async () => {
      const authenticator = new SoftwareAuthenticator({ algorithms: [algorithm] });
      const { credential } = await register(authenticator);
      const { verify } = await authenticate(authenticator, credential, { ctx: { signature: 'corrupt' } });
      await expect(verify()).resolves.toMatchObject({ verified: false });
    });
  });

  it('picks the first offered algorithm it supports, in the options order', async () => {
    const authenticator = new SoftwareAuthenticator({ algorithms: ['Ed25519', 'ES256'] });
    const options = await registrationOptions({ supportedAlgorithmIDs: [-257, -7, -8] });
    const response = await authenticator.createCredential(options, { origin: ORIGIN });
    expect(response.response.publicKeyAlgorithm).toBe(-7);
    expect(authenticator.credentials[0]?.algorithm).toBe('ES256');

    const rsaOnly = await registrationOptions({ supportedAlgorithmIDs: [-257] });
    await expect(authenticator.createCredential(rsaOnly, { origin: ORIGIN })).rejects.toMatchObject({
      name: 'NotSupportedError',
    });
    // ctx.algorithm forces a key type the options do not offer; the RP must refuse it.
    const forced = await authenticator.createCredential(rsaOnly, { origin: ORIGIN, algorithm: 'ES256' });
    await expect(
      verifyRegistrationResponse({
        response: forced,
        expectedChallenge: rsaOnly.challenge,
        expectedOrigin: ORIGIN,
        expectedRPID: RP_ID,
        supportedAlgorithmIDs: [-257],
      }),
    ).rejects.toThrow(/Unexpected public key alg/);
  });

  it('reports defaults: TEST_AAGUID, platform attachment, internal+hybrid transports, single-device, rk', async () => {
    const authenticator = new SoftwareAuthenticator();
    const options = await registrationOptions();
    const response = await authenticator.createCredential(options, { origin: ORIGIN });
    expect(response.authenticatorAttachment).toBe('platform');
    expect(response.response.transports).toEqual(['internal', 'hybrid']);
    expect(response.clientExtensionResults).toEqual({ credProps: { rk: true } });
    const info = (await verifyRegistration(response, options)).registrationInfo!;
    expect(info.aaguid).toBe(TEST_AAGUID);
    expect(info.credentialDeviceType).toBe('singleDevice');
    expect(info.credentialBackedUp).toBe(false);
    expect(info.credential.transports).toEqual(['internal', 'hybrid']);
    expect(authenticator.credentials).toEqual([
      expect.objectContaining({
        id: response.id,
        rpId: RP_ID,
        userHandle: options.user.id,
        counter: 0,
        discoverable: true,
      }),
    ]);
  });

  it('reflects aaguid, transports, attachment, backup flags and discoverability options', async () => {
    const options: SoftwareAuthenticatorOptions = {
      aaguid: 'adce0002-35bc-c60a-648b-0b25f1f05503',
      transports: ['usb', 'nfc'],
      attachment: 'cross-platform',
      backupEligible: true,
      backedUp: true,
      discoverable: false,
    };
    const authenticator = new SoftwareAuthenticator(options);
    const regOptions = await registrationOptions();
    const response = await authenticator.createCredential(regOptions, { origin: ORIGIN });
    expect(response.authenticatorAttachment).toBe('cross-platform');
    expect(response.clientExtensionResults.credProps).toEqual({ rk: false });
    const info = (await verifyRegistration(response, regOptions)).registrationInfo!;
    expect(info.aaguid).toBe(options.aaguid);
    expect(info.credential.transports).toEqual(['usb', 'nfc']);
    expect(info.credentialDeviceType).toBe('multiDevice');
    expect(info.credentialBackedUp).toBe(true);

    // Per-ceremony overrides win over the authenticator's settings.
    const regOptions2 = await registrationOptions();
    const response2 = await authenticator.createCredential(regOptions2, {
      origin: ORIGIN,
      aaguid: TEST_AAGUID,
      transports: ['ble'],
      discoverable: true,
    });
    expect(response2.clientExtensionResults.credProps).toEqual({ rk: true });
    const info2 = (await verifyRegistration(response2, regOptions2)).registrationInfo!;
    expect(info2.aaguid).toBe(TEST_AAGUID);
    expect(info2.credential.transports).toEqual(['ble']);
  });

  it('without user verification UV is clear and a UV-requiring RP rejects it', async () => {
    const authenticator = new SoftwareAuthenticator({ userVerification: false });
    const options = await registrationOptions();
    const response = await authenticator.createCredential(options, { origin: ORIGIN });
    await expect(verifyRegistration(response, options)).rejects.toThrow(/User verification was required/);
    const relaxed = await verifyRegistrationResponse({
      response,
      expectedChallenge: options.challenge,
      expectedOrigin: ORIGIN,
      expectedRPID: RP_ID,
      requireUserVerification: false,
    });
    expect(relaxed.registrationInfo?.userVerified).toBe(false);

    authenticator.setUserVerification(true);
    const options2 = await registrationOptions();
    const result = await verifyRegistration(
      await authenticator.createCredential(options2, { origin: ORIGIN }),
      options2,
    );
    expect(result.registrationInfo?.userVerified).toBe(true);
  });

  it('encodes a caller-chosen credential ID of any length', async () => {
    const authenticator = new SoftwareAuthenticator();
    const options = await registrationOptions();
    const credentialId = new Uint8Array(1500).fill(0xab);
    const response = await authenticator.createCredential(options, { origin: ORIGIN, credentialId });
    expect(response.id).toBe(Buffer.from(credentialId).toString('base64url'));
    const authData = parseAuthenticatorData(
      decodeAttestationObject(
        new Uint8Array(Buffer.from(response.response.attestationObject, 'base64url')),
      ).get('authData'),
    );
    expect(authData.credentialID?.length).toBe(1500);
    // Observation: @simplewebauthn/server 14 does not enforce WebAuthn's 1023-byte credential ID limit.
    await expect(verifyRegistration(response, options)).resolves.toMatchObject({ verified: true });
  });

  it('refuses to create a credential it already holds per excludeCredentials (InvalidStateError)', async () => {
    const authenticator = new SoftwareAuthenticator();
    const { credential } = await register(authenticator);
    const options = await registrationOptions({ excludeCredentials: [{ id: credential.id }] });
    await expect(authenticator.createCredential(options, { origin: ORIGIN })).rejects.toMatchObject({
      name: 'InvalidStateError',
    });
    await expect(
      new SoftwareAuthenticator().createCredential(options, { origin: ORIGIN }),
    ).resolves.toBeTruthy();
  });

  it('registration forgeries are rejected', async () => {
    const authenticator = new SoftwareAuthenticator({ backupEligible: false });
    const cases: [Parameters<SoftwareAuthenticator['createCredential']>[1], RegExp][] = [
      [{ origin: ORIGIN, challenge: 'd3JvbmctY2hhbGxlbmdl' }, /Unexpected registration response challenge/],
      [{ origin: 'https://evil.test' }, /Unexpected registration response origin/],
      [{ origin: ORIGIN, rpId: 'evil.test' }, /Unexpected RP ID hash/],
      [{ origin: ORIGIN, rpIdHash: new Uint8Array(32) }, /Unexpected RP ID hash/],
      [{ origin: ORIGIN, type: 'webauthn.get' }, /Unexpected registration response type/],
      [{ origin: ORIGIN, flags: { up: false } }, /User presence was required/],
      [{ origin: ORIGIN, flags: { bs: true } }, /Single-device credential indicated that it was backed up/],
      [{ origin: ORIGIN, trailingBytes: Uint8Array.of(0) }, /Leftover bytes/],
      [{ origin: ORIGIN, rawId: 'AAAA' }, /Credential ID was not base64url-encoded/],
    ];
    for (const [ctx, error] of cases) {
      const options = await registrationOptions();
      const response = await authenticator.createCredential(options, ctx);
      await expect(verifyRegistration(response, options), JSON.stringify(ctx)).rejects.toThrow(error);
    }
  });

  it('documents a gap: @simplewebauthn/server 14 ignores crossOrigin/topOrigin at registration', async () => {
    const authenticator = new SoftwareAuthenticator();
    const options = await registrationOptions();
    const response = await authenticator.createCredential(options, {
      origin: ORIGIN,
      crossOrigin: true,
      topOrigin: 'https://evil.test',
    });
    const clientData = JSON.parse(
      Buffer.from(response.response.clientDataJSON, 'base64url').toString('utf8'),
    );
    expect(clientData).toEqual({
      type: 'webauthn.create',
      challenge: options.challenge,
      origin: ORIGIN,
      crossOrigin: true,
      topOrigin: 'https://evil.test',
    });
    await expect(verifyRegistration(response, options)).resolves.toMatchObject({ verified: true });
  });
});

describe('SoftwareAuthenticator authentication', () => {
  it('discoverable (usernameless) flow returns the user handle', async () => {
    const authenticator = new SoftwareAuthenticator();
    const { credential, userHandle } = await register(authenticator);
    const { response, verify } = await authenticate(authenticator, credential);
    expect(response.id).toBe(credential.id);
    expect(response.response.userHandle).toBe(userHandle);
    expect(response.authenticatorAttachment).toBe('platform');
    expect(response.clientExtensionResults).toEqual({});
    await expect(verify()).resolves.toMatchObject({ verified: true });
  });

  it('username-first flow picks the allowed credential; non-discoverable ones omit userHandle', async () => {
    const authenticator = new SoftwareAuthenticator({ discoverable: false });
    const first = await register(authenticator);
    const second = await register(authenticator);
    const { response, verify } = await authenticate(authenticator, second.credential, { allow: true });
    expect(response.id).toBe(second.credential.id);
    expect(response.response.userHandle).toBeUndefined();
    await expect(verify()).resolves.toMatchObject({ verified: true });
    expect(authenticator.credentials.map((c) => c.counter)).toEqual([0, 1]);

    // No discoverable credential: usernameless sign-in has nothing to offer.
    await expect(authenticate(authenticator, first.credential)).rejects.toMatchObject({
      name: 'NotAllowedError',
    });
    // userHandle override.
    const forced = await authenticate(authenticator, first.credential, {
      allow: true,
      ctx: { userHandle: 'dXNlcg' },
    });
    expect(forced.response.response.userHandle).toBe('dXNlcg');
  });

  it("'increment' counter counts assertions and the RP sees increasing counters", async () => {
    const authenticator = new SoftwareAuthenticator();
    const { credential } = await register(authenticator);
    for (const expected of [1, 2, 3]) {
      const result = await (await authenticate(authenticator, credential)).verify();
      expect(result.authenticationInfo.newCounter).toBe(expected);
      credential.counter = result.authenticationInfo.newCounter;
    }
    expect(authenticator.credentials[0]?.counter).toBe(3);
  });

  it("'zero' counter stays 0 and is accepted repeatedly", async () => {
    const authenticator = new SoftwareAuthenticator({ counter: 'zero' });
    const { credential } = await register(authenticator);
    for (let i = 0; i < 2; i++) {
      const result = await (await authenticate(authenticator, credential)).verify();
      expect(result).toMatchObject({ verified: true, authenticationInfo: { newCounter: 0 } });
    }
  });

  it('a replayed/cloned counter is rejected, and a forged counter becomes the stored one', async () => {
    const authenticator = new SoftwareAuthenticator();
    const { credential } = await register(authenticator);
    credential.counter = 5;
    await expect((await authenticate(authenticator, credential)).verify()).rejects.toThrow(
      /counter value 1 was lower/,
    );
    const jumped = await (await authenticate(authenticator, credential, { ctx: { counter: 10 } })).verify();
    expect(jumped.authenticationInfo.newCounter).toBe(10);
    expect(authenticator.credentials[0]?.counter).toBe(10);
    await authenticate(authenticator, credential);
    expect(authenticator.credentials[0]?.counter).toBe(11);
  });

  it('reports UV and backup state in authenticationInfo', async () => {
    const authenticator = new SoftwareAuthenticator({ backupEligible: true, backedUp: true });
    const { credential } = await register(authenticator);
    const info = (await (await authenticate(authenticator, credential)).verify()).authenticationInfo;
    expect(info).toMatchObject({
      userVerified: true,
      credentialDeviceType: 'multiDevice',
      credentialBackedUp: true,
    });

    authenticator.setUserVerification(false);
    const { verify } = await authenticate(authenticator, credential);
    await expect(verify()).rejects.toThrow(/User verification required/);
  });

  it('credentialId selects a credential; removeCredential forgets it', async () => {
    const authenticator = new SoftwareAuthenticator();
    const first = await register(authenticator);
    await register(authenticator);
    const { response } = await authenticate(authenticator, first.credential, {
      ctx: { credentialId: first.credential.id },
    });
    expect(response.id).toBe(first.credential.id);
    authenticator.removeCredential(first.credential.id);
    expect(authenticator.credentials).toHaveLength(1);
    await expect(
      authenticate(authenticator, first.credential, { ctx: { credentialId: first.credential.id } }),
    ).rejects.toMatchObject({ name: 'NotAllowedError' });
    await expect(authenticate(authenticator, first.credential, { allow: true })).rejects.toMatchObject({
      name: 'NotAllowedError',
    });
  });

  it('assertion forgeries are rejected', async () => {
    const authenticator = new SoftwareAuthenticator();
    const { credential } = await register(authenticator);
    const cases: [Parameters<SoftwareAuthenticator['getAssertion']>[1], RegExp][] = [
      [{ origin: ORIGIN, challenge: 'd3JvbmctY2hhbGxlbmdl' }, /Unexpected authentication response challenge/],
      [{ origin: 'https://evil.test' }, /Unexpected authentication response origin/],
      [{ origin: ORIGIN, rpId: 'evil.test' }, /Unexpected RP ID hash/],
      [{ origin: ORIGIN, type: 'webauthn.create' }, /Unexpected authentication response type/],
      [{ origin: ORIGIN, flags: { up: false } }, /User not present/],
      [{ origin: ORIGIN, trailingBytes: Uint8Array.of(1, 2) }, /Leftover bytes/],
      [{ origin: ORIGIN, topOrigin: 'https://evil.test' }, /Unexpected top origin/],
      [{ origin: ORIGIN, crossOrigin: true, topOrigin: 'https://evil.test' }, /expectedTopOrigin/],
      [{ origin: ORIGIN, id: 'AAAA' }, /Credential ID was not base64url-encoded/],
      [{ origin: ORIGIN, clientDataJSON: '{"type":"webauthn.get"' }, /JSON/],
    ];
    for (const [ctx, error] of cases) {
      const { verify } = await authenticate(authenticator, credential, { ctx });
      await expect(verify(), JSON.stringify(ctx)).rejects.toThrow(error);
    }
    // A wholesale replaced signature fails verification.
    const replaced = await authenticate(authenticator, credential, {
      ctx: { signature: new Uint8Array(64) },
    });
    await expect(replaced.verify()).resolves.toMatchObject({ verified: false });
  });

  it('a whole forged clientDataJSON is hashed and signed as given', async () => {
    const authenticator = new SoftwareAuthenticator();
    const { credential } = await register(authenticator);
    const options = await generateAuthenticationOptions({ rpID: RP_ID });
    const clientDataJSON = JSON.stringify({
      type: 'webauthn.get',
      challenge: options.challenge,
      origin: ORIGIN,
      extra: 1,
    });
    const response = await authenticator.getAssertion(options, { origin: 'ignored', clientDataJSON });
    expect(Buffer.from(response.response.clientDataJSON, 'base64url').toString('utf8')).toBe(clientDataJSON);
    const result = await verifyAuthenticationResponse({
      response,
      expectedChallenge: options.challenge,
      expectedOrigin: ORIGIN,
      expectedRPID: RP_ID,
      credential,
    });
    expect(result.verified).toBe(true);
  });
});
