import { constants, createHash, generateKeyPairSync, sign } from 'node:crypto';
import { createAssertionVerifier } from '@passgate/core';
import {
  buildAuthenticatorData,
  type CborValue,
  encodeCbor,
  rpIdHash,
  SoftwareAuthenticator,
  type SoftwareAuthenticatorOptions,
} from '@passgate/testing';
import { type VerifyAuthenticationResponseOpts, verifyAuthenticationResponse } from '@simplewebauthn/server';
import {
  decodeAttestationObject,
  decodeCredentialPublicKey,
  parseAuthenticatorData,
} from '@simplewebauthn/server/helpers';
import { describe, expect, it } from 'vitest';
import { bytesOf, failure, loadVectors, makePassgate, ORIGIN, RP_ID, signIn, signUp } from './helpers.js';

const CHALLENGE = Buffer.from('a challenge of thirty-two bytes!').toString('base64url');

// Node prints each deprecation once per process, asynchronously: collect them from the start of the
// file, before the first key import, and check at the end (the last test).
const deprecations: string[] = [];
process.on('warning', (warning: Error & { code?: string }) => {
  if (warning.name === 'DeprecationWarning') deprecations.push(`${warning.code}: ${warning.message}`);
});

async function credentialWith(
  algorithm: 'ES256' | 'RS256' | 'Ed25519',
  behaviour: SoftwareAuthenticatorOptions = {},
) {
  const authenticator = new SoftwareAuthenticator({ algorithms: [algorithm], counter: 'zero', ...behaviour });
  await authenticator.createCredential(
    {
      rp: { id: RP_ID, name: 'test' },
      user: { id: 'dXNlcg', name: 'user', displayName: 'user' },
      challenge: CHALLENGE,
      pubKeyCredParams: [{ type: 'public-key', alg: { ES256: -7, RS256: -257, Ed25519: -8 }[algorithm] }],
    },
    { origin: ORIGIN },
  );
  const stored = authenticator.credentials[0];
  if (!stored) throw new Error('no credential');
  const options = async (
    publicKey = stored.publicKey,
    clientData: { crossOrigin?: boolean; topOrigin?: string } = {},
  ): Promise<VerifyAuthenticationResponseOpts> => ({
    response: await authenticator.getAssertion(
      { challenge: CHALLENGE, rpId: RP_ID },
      { origin: ORIGIN, ...clientData },
    ),
    expectedChallenge: CHALLENGE,
    expectedOrigin: ORIGIN,
    expectedRPID: RP_ID,
    credential: { id: stored.id, publicKey: Uint8Array.from(publicKey), counter: 0 },
  });
  return { id: stored.id, publicKey: stored.publicKey, options };
}

/** A promise's outcome as a comparable value: the resolved result, or the error's message. */
const settle = (p: Promise<unknown>) =>
  p.then(
    (value) => ({ value }),
    (error: Error) => ({ error: error.message }),
  );

/** `publicKey` (a COSE key) with its `crv` (label -1) replaced, every other entry kept in order. */
function withCurve(publicKey: Uint8Array, crv: number): Uint8Array<ArrayBuffer> {
  const cose = decodeCredentialPublicKey(Uint8Array.from(publicKey)) as unknown as Map<number, CborValue>;
  return encodeCbor(new Map([...cose].map(([label, value]) => [label, label === -1 ? crv : value])));
}

describe('createAssertionVerifier', () => {
  it.each(['ES256', 'RS256', 'Ed25519'] as const)(
    'accepts a valid %s assertion on the fast path, with the library’s result',
    async (algorithm) => {
      const verifier = createAssertionVerifier();
      const credential = await credentialWith(algorithm);
      const options = await credential.options();
      const fast = await verifier.verify(options);
      expect(verifier.stats).toEqual({ fast: 1, library: 0 });
      expect(fast).toEqual(await verifyAuthenticationResponse(options));
      // The second sign-in reuses the imported key.
      await verifier.verify(await credential.options());
      expect(verifier.stats).toEqual({ fast: 2, library: 0 });
      expect(verifier.cachedKeys).toBe(1);
    },
  );

  it('keys the cache by the COSE key bytes too: another key under a cached id is not trusted', async () => {
    const verifier = createAssertionVerifier();
    const mine = await credentialWith('ES256');
    const other = await credentialWith('ES256');
    await verifier.verify(await mine.options());
    // Same credential id, signed by the cached key, but the relying party now holds another key.
    const swapped = await mine.options(other.publicKey);
    await expect(verifier.verify(swapped)).resolves.toEqual(await verifyAuthenticationResponse(swapped));
    await expect(verifier.verify(swapped)).resolves.toMatchObject({ verified: false });
    expect(verifier.stats.fast).toBe(1);
  });

  it('rejects with the library’s own error (a wrong challenge)', async () => {
    const verifier = createAssertionVerifier();
    const options = { ...(await (await credentialWith('Ed25519')).options()), expectedChallenge: 'b3RoZXI' };
    const expected = await verifyAuthenticationResponse(options).catch((error: Error) => error.message);
    await expect(verifier.verify(options)).rejects.toThrow(expected as string);
    expect(verifier.stats).toEqual({ fast: 0, library: 1 });
  });

  it('hands an expectedType to the library: a webauthn.get assertion fails where only payment.get is expected', async () => {
    const verifier = createAssertionVerifier();
    const credential = await credentialWith('ES256');
    // The key is cached first, so only the options can send the call to the library.
    await verifier.verify(await credential.options());
    const options = { ...(await credential.options()), expectedType: 'payment.get' };
    const library = await settle(verifyAuthenticationResponse(options));
    expect(library).toMatchObject({ error: expect.stringContaining('payment.get') });
    expect(await settle(verifier.verify(options))).toEqual(library);
    expect(verifier.stats).toEqual({ fast: 1, library: 1 });
  });

  it('hands advancedFIDOConfig to the library: its required user verification refuses an assertion without UV', async () => {
    const verifier = createAssertionVerifier();
    const credential = await credentialWith('ES256', { userVerification: false });
    const plain = { ...(await credential.options()), requireUserVerification: false };
    await expect(verifier.verify(plain)).resolves.toMatchObject({ verified: true });
    const options = {
      ...(await credential.options()),
      requireUserVerification: false,
      advancedFIDOConfig: { userVerification: 'required' as const },
    };
    const library = await settle(verifyAuthenticationResponse(options));
    expect(library).toMatchObject({ error: expect.stringContaining('User verification required') });
    expect(await settle(verifier.verify(options))).toEqual(library);
    expect(verifier.stats).toEqual({ fast: 1, library: 1 });
  });

  it.each([
    ['ES256', 2, 'a P-256 key labelled P-384'],
    ['Ed25519', 7, 'an Ed25519 key labelled Ed448'],
  ] as ['ES256' | 'Ed25519', number, string][])(
    'refuses %s signatures under a COSE key labelled with another curve (crv %i: %s), as the library does',
    async (algorithm, crv) => {
      const verifier = createAssertionVerifier();
      const credential = await credentialWith(algorithm);
      const options = await credential.options(withCurve(credential.publicKey, crv));
      const library = await settle(verifyAuthenticationResponse(options));
      expect(library).toEqual({ error: expect.any(String) });
      expect(await settle(verifier.verify(options))).toEqual(library);
      expect(verifier.stats.fast).toBe(0);
    },
  );

  it('refuses an RSA-PSS signature under an RS256 (PKCS#1 v1.5) key, as the library does', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = publicKey.export({ format: 'jwk' });
    const cose = encodeCbor(
      new Map<number, CborValue>([
        [1, 3],
        [3, -257],
        [-1, Buffer.from(jwk.n as string, 'base64url')],
        [-2, Buffer.from(jwk.e as string, 'base64url')],
      ]),
    );
    const authenticatorData = buildAuthenticatorData({
      rpIdHash: rpIdHash(RP_ID),
      flags: { up: true, uv: true },
      counter: 0,
    });
    const clientData = Buffer.from(
      JSON.stringify({ type: 'webauthn.get', challenge: CHALLENGE, origin: ORIGIN }),
    );
    const signed = Buffer.concat([authenticatorData, createHash('sha256').update(clientData).digest()]);
    const id = Buffer.from('an RSA credential').toString('base64url');
    const assertion = (signature: Uint8Array): VerifyAuthenticationResponseOpts => ({
      response: {
        id,
        rawId: id,
        type: 'public-key',
        response: {
          clientDataJSON: clientData.toString('base64url'),
          authenticatorData: Buffer.from(authenticatorData).toString('base64url'),
          signature: Buffer.from(signature).toString('base64url'),
        },
        clientExtensionResults: {},
      },
      expectedChallenge: CHALLENGE,
      expectedOrigin: ORIGIN,
      expectedRPID: RP_ID,
      credential: { id, publicKey: cose, counter: 0 },
    });
    const verifier = createAssertionVerifier();
    // The PKCS#1 v1.5 signature passes on the fast path: the key and the assertion are sound.
    const pkcs1 = assertion(
      sign('sha256', signed, { key: privateKey, padding: constants.RSA_PKCS1_PADDING }),
    );
    await expect(verifier.verify(pkcs1)).resolves.toMatchObject({ verified: true });
    expect(verifier.stats.fast).toBe(1);
    const pss = assertion(
      sign('sha256', signed, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }),
    );
    const library = await settle(verifyAuthenticationResponse(pss));
    expect(library).toEqual({ value: expect.objectContaining({ verified: false }) });
    expect(await settle(verifier.verify(pss))).toEqual(library);
    expect(verifier.stats.fast).toBe(1);
  });

  // The differential property test reaches these only by chance (several generated fields must line
  // up at once); each is what WebAuthn §7.2 steps 13 and 14 refuse, so each is pinned here.
  it.each([
    ['another origin, expected as a string', {}, { expectedOrigin: 'https://evil.example' }],
    ['a cross-origin top origin, none expected', { crossOrigin: true, topOrigin: 'https://top.example' }, {}],
    [
      'another top origin, one expected as a string',
      { crossOrigin: true, topOrigin: 'https://evil.example' },
      { expectedTopOrigin: 'https://top.example' },
    ],
    [
      'another top origin, one expected in a list',
      { crossOrigin: true, topOrigin: 'https://evil.example' },
      { expectedTopOrigin: ['https://top.example'] },
    ],
  ] as [string, { crossOrigin?: boolean; topOrigin?: string }, Partial<VerifyAuthenticationResponseOpts>][])(
    'refuses %s, as the library does',
    async (_what, clientData, expected) => {
      const verifier = createAssertionVerifier();
      const credential = await credentialWith('ES256');
      // The key is cached by a valid sign-in first, so the forged one meets the fast path's checks.
      await verifier.verify(await credential.options());
      const options = { ...(await credential.options(undefined, clientData)), ...expected };
      const library = await settle(verifyAuthenticationResponse(options));
      expect(library).toEqual({ error: expect.any(String) });
      expect(await settle(verifier.verify(options))).toEqual(library);
    },
  );

  it('keeps at most maxCachedKeys keys, least recently used out first', async () => {
    const verifier = createAssertionVerifier({ maxCachedKeys: 2 });
    const [a, b, c] = [
      await credentialWith('ES256'),
      await credentialWith('ES256'),
      await credentialWith('ES256'),
    ];
    await verifier.verify(await a.options());
    await verifier.verify(await b.options());
    await verifier.verify(await a.options()); // a is now the most recent
    await verifier.verify(await c.options()); // evicts b
    expect(verifier.cachedKeys).toBe(2);
    expect(verifier.stats).toEqual({ fast: 4, library: 0 });
  });

  it('maxCachedKeys 0 sends every call to the library', async () => {
    const verifier = createAssertionVerifier({ maxCachedKeys: 0 });
    const result = await verifier.verify(await (await credentialWith('ES256')).options());
    expect(result.verified).toBe(true);
    expect(verifier.stats).toEqual({ fast: 0, library: 1 });
    expect(verifier.cachedKeys).toBe(0);
    expect(() => createAssertionVerifier({ maxCachedKeys: -1 })).toThrow(TypeError);
  });

  it('the W3C vectors’ assertions get the library’s verdicts, ES256/RS256/EdDSA on the fast path', async () => {
    const verifier = createAssertionVerifier();
    let fastExpected = 0;
    for (const v of loadVectors().vectors) {
      const attestation = decodeAttestationObject(bytesOf(v.registration.attestationObject));
      const publicKey = parseAuthenticatorData(attestation.get('authData')).credentialPublicKey;
      if (!publicKey) throw new Error(`${v.label}: no public key`);
      const options: VerifyAuthenticationResponseOpts = {
        response: {
          id: v.registration.credentialId,
          rawId: v.registration.credentialId,
          type: 'public-key',
          response: {
            clientDataJSON: v.authentication.clientDataJSON,
            authenticatorData: v.authentication.authenticatorData,
            signature: v.authentication.signature,
          },
          clientExtensionResults: {},
        },
        expectedChallenge: v.authentication.challenge,
        expectedOrigin: v.origin,
        expectedRPID: v.rpId,
        ...(v.topOrigin ? { expectedTopOrigin: v.topOrigin } : {}),
        requireUserVerification: false,
        credential: { id: v.registration.credentialId, publicKey, counter: 0 },
      };
      const library = await settle(verifyAuthenticationResponse(options));
      const before = verifier.stats.fast;
      expect(await settle(verifier.verify(options)), v.label).toEqual(library);
      if ([-7, -257, -8].includes(v.alg) && 'value' in library) {
        fastExpected += 1;
        expect(verifier.stats.fast, `${v.label} on the fast path`).toBe(before + 1);
      }
    }
    expect(fastExpected).toBeGreaterThan(10);
  });

  it('is what Passgate signs in with by default (publicKeyCacheSize 0: the library alone, same outcome)', async () => {
    for (const publicKeyCacheSize of [undefined, 0]) {
      const h = makePassgate(publicKeyCacheSize === undefined ? {} : { publicKeyCacheSize });
      const authenticator = new SoftwareAuthenticator();
      await signUp(h, authenticator, 'ada');
      const result = await signIn(h, authenticator);
      expect(result.user.name).toBe('ada');
      const bad = await failure(signIn(h, authenticator, { ctx: { signature: 'corrupt' } }));
      expect(bad).toMatchObject({ code: 'verification_failed', reason: 'signature_invalid' });
    }
  });

  // Node 24 deprecates KeyObject.from() of a non-extractable CryptoKey (DEP0204), which the fast path
  // once used; a later Node refuses it. Only Node 24 and later can fail this test; CI runs both.
  it('imports keys without a deprecated Node API (ES256, RS256, Ed25519)', async () => {
    const verifier = createAssertionVerifier();
    for (const algorithm of ['ES256', 'RS256', 'Ed25519'] as const) {
      await verifier.verify(await (await credentialWith(algorithm)).options());
    }
    expect(verifier.stats.fast).toBe(3);
    await new Promise((settle) => setImmediate(settle));
    expect(deprecations).toEqual([]);
  });
});
