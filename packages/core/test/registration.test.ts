import { randomBytes } from 'node:crypto';
import type { PasskeySession } from '@passgate/core';
import { type CborValue, encodeCbor, SoftwareAuthenticator, TEST_AAGUID } from '@passgate/testing';
import { describe, expect, it } from 'vitest';
import {
  b64,
  bytesOf,
  eventsNamed,
  failure,
  makePassgate,
  nestedCborArrays,
  ORIGIN,
  RP_ID,
  registrationAttempt,
  signIn,
  signUp,
  TEST_ROOT_PEM,
} from './helpers.js';

const ICLOUD = 'fbfc3007-154e-4ecc-8c0b-6e020557d7bd';

describe('sign-up happy path', () => {
  for (const [algorithm, cose] of [
    ['ES256', -7],
    ['Ed25519', -8],
    ['RS256', -257],
  ] as const) {
    it(`creates the account and its ${algorithm} credential`, async () => {
      const h = makePassgate();
      const authenticator = new SoftwareAuthenticator({ algorithms: [algorithm] });
      const result = await signUp(h, authenticator, 'alice');
      expect(result.signedUp).toBe(true);
      const account = await h.stores.accounts.findByUsername('alice');
      expect(account).not.toBeNull();
      expect(result.user).toEqual({ id: account!.userId, name: 'alice', displayName: 'alice' });
      const stored = await h.stores.credentials.findById(result.credential.id);
      expect(stored).toMatchObject({
        algorithm: cose,
        userHandle: account!.userHandle,
        counter: 0,
        attestationFormat: 'none',
      });
      expect(await h.stores.credentials.listByUserHandle(account!.userHandle)).toHaveLength(1);
      expect(result.session).toMatchObject({
        userId: account!.userId,
        userHandle: account!.userHandle,
        credentialId: result.credential.id,
        userVerified: true,
      });
      expect(eventsNamed(h, 'registered')).toHaveLength(1);
    });
  }

  it('uses a random 32-byte user handle, not the username, and the app id as user.id', async () => {
    let n = 41;
    const h = makePassgate({ createUserId: () => `app-user-${++n}` });
    const { options, user, session } = await signUp(h, new SoftwareAuthenticator(), 'alice');
    const handle = bytesOf(options.user.id);
    expect(handle).toHaveLength(32);
    expect(Buffer.from(handle).toString('utf8')).not.toContain('alice');
    expect(options.user.id).not.toBe(b64(Buffer.from('alice')));
    expect(user.id).toBe('app-user-42');
    expect(session.userHandle).toBe(options.user.id);
    // Two sign-ups never share a handle.
    const other = await signUp(h, new SoftwareAuthenticator(), 'bob');
    expect(other.options.user.id).not.toBe(options.user.id);
  });

  it('offers the default algorithms, resident key and credProps, and passes hints on', async () => {
    const h = makePassgate();
    const { options } = await h.passgate.startRegistration({
      session: null,
      username: 'alice',
      hints: ['hybrid', 'security-key'],
    });
    expect(options.pubKeyCredParams.map((p) => p.alg)).toEqual([-8, -7, -257]);
    expect(options.authenticatorSelection).toMatchObject({
      residentKey: 'required',
      userVerification: 'preferred',
    });
    expect(options.extensions).toMatchObject({ credProps: true });
    expect(options.hints).toEqual(['hybrid', 'security-key']);
    expect(options.rp.id).toBe(RP_ID);
  });

  it('keeps the display name given, defaulting to the username', async () => {
    const h = makePassgate();
    const a = await signUp(h, new SoftwareAuthenticator(), 'alice', { displayName: 'Alice A.' });
    expect(a.user.displayName).toBe('Alice A.');
  });

  it('stores a trimmed nickname, and null for a blank one', async () => {
    const h = makePassgate();
    const a = await signUp(h, new SoftwareAuthenticator(), 'alice', { nickname: '  Work laptop  ' });
    expect(a.credential.nickname).toBe('Work laptop');
    expect((await h.stores.credentials.findById(a.credential.id))?.nickname).toBe('Work laptop');
    const b = await signUp(h, new SoftwareAuthenticator(), 'bob', { nickname: '   ' });
    expect(b.credential.nickname).toBeNull();
  });

  it('stores the known transports and hands them back in allowCredentials', async () => {
    const h = makePassgate();
    const key = new SoftwareAuthenticator({ transports: ['usb', 'nfc'] });
    const a = await signUp(h, key, 'alice', { ctx: { transports: ['usb', 'nfc', 'bogus' as 'usb'] } });
    expect(a.credential.transports).toEqual(['usb', 'nfc']);
    const { options } = await h.passgate.startAuthentication({ username: 'alice' });
    expect(options.allowCredentials).toEqual([
      { id: a.credential.id, type: 'public-key', transports: ['usb', 'nfc'] },
    ]);
  });
});

describe('backup flags at registration', () => {
  it.each([
    [false, false, 'singleDevice'],
    [true, false, 'multiDevice'],
    [true, true, 'multiDevice'],
  ] as const)(
    'stores BE=%s BS=%s as the authenticator reported them (%s)',
    async (backupEligible, backedUp, deviceType) => {
      const h = makePassgate();
      const authenticator = new SoftwareAuthenticator({ backupEligible, backedUp });
      const up = await signUp(h, authenticator, 'alice');
      expect(up.credential).toMatchObject({ deviceType, backedUp });
      expect(await h.stores.credentials.findById(up.credential.id)).toMatchObject({
        backupEligible,
        backedUp,
      });
    },
  );

  it('a backup-eligible passkey signs in with BE set, and the eligibility it registered with is kept', async () => {
    const h = makePassgate();
    const authenticator = new SoftwareAuthenticator({ backupEligible: true, backedUp: true });
    const up = await signUp(h, authenticator, 'alice');
    const result = await signIn(h, authenticator);
    expect(result.credential).toMatchObject({
      id: up.credential.id,
      deviceType: 'multiDevice',
      backedUp: true,
    });
  });
});

describe('adding a passkey when signed in', () => {
  it('lists existing passkeys with transports in excludeCredentials and adds the new one', async () => {
    const h = makePassgate();
    const first = await signUp(h, new SoftwareAuthenticator({ transports: ['internal'] }), 'alice');
    const start = await h.passgate.startRegistration({
      session: first.session,
      username: 'ignored-not-validated-'.repeat(9),
    });
    expect(start.options.excludeCredentials).toEqual([
      { id: first.credential.id, type: 'public-key', transports: ['internal'] },
    ]);
    expect(start.options.user.id).toBe(first.session.userHandle);
    const second = new SoftwareAuthenticator({ transports: ['usb'] });
    const attempt = await registrationAttempt(h, second, { session: first.session });
    const result = await attempt.finish();
    expect(result.signedUp).toBe(false);
    expect(result.session).toBeNull();
    expect(result.user.id).toBe(first.user.id);
    const stored = await h.stores.credentials.listByUserHandle(first.session.userHandle);
    expect(stored.map((c) => c.id).sort()).toEqual([first.credential.id, result.credential.id].sort());
  });

  // The account deleted (by the application, or by the user on another device) while this passkey's
  // ceremony was open: the deletion landing just before the store's create, or just after it.
  for (const when of ['before', 'after'] as const) {
    it(`an account deleted just ${when} the new passkey's create: 401 unauthenticated, no passkey left behind`, async () => {
      const h = makePassgate();
      const first = await signUp(h, new SoftwareAuthenticator(), 'alice');
      const attempt = await registrationAttempt(h, new SoftwareAuthenticator(), { session: first.session });
      const { credentials, accounts } = h.stores;
      const create = credentials.create.bind(credentials);
      credentials.create = async (credential, options) => {
        if (when === 'before') await accounts.delete(credential.userHandle);
        await create(credential, options);
        if (when === 'after') await accounts.delete(credential.userHandle);
      };
      expect(await failure(attempt.finish())).toMatchObject({ code: 'unauthenticated', status: 401 });
      expect(await credentials.findById(attempt.response.id)).toBeNull();
      expect(await credentials.listByUserHandle(first.session.userHandle)).toEqual([]);
      expect(eventsNamed(h, 'registered')).toHaveLength(1);
    });
  }

  it('the same authenticator refuses to create a second credential (excludeCredentials works)', async () => {
    const h = makePassgate();
    const authenticator = new SoftwareAuthenticator();
    const first = await signUp(h, authenticator, 'alice');
    await expect(registrationAttempt(h, authenticator, { session: first.session })).rejects.toMatchObject({
      name: 'InvalidStateError',
    });
  });

  it('refuses to finish without the session that started it, or with another account', async () => {
    const h = makePassgate();
    const alice = await signUp(h, new SoftwareAuthenticator(), 'alice');
    const bob = await signUp(h, new SoftwareAuthenticator(), 'bob');
    const attempt = await registrationAttempt(h, new SoftwareAuthenticator(), { session: alice.session });
    expect(await failure(attempt.finish({ session: null }))).toMatchObject({ code: 'unauthenticated' });
    const again = await registrationAttempt(h, new SoftwareAuthenticator(), { session: alice.session });
    expect(await failure(again.finish({ session: bob.session }))).toMatchObject({ code: 'unauthenticated' });
    expect(await h.stores.credentials.listByUserHandle(alice.session.userHandle)).toHaveLength(1);
  });

  it('refuses a session whose account is gone', async () => {
    const h = makePassgate();
    const ghost: PasskeySession = {
      userId: 'nobody',
      userHandle: b64(randomBytes(32)),
      credentialId: 'AAAA',
      authenticatedAt: h.clock.now,
      userVerified: true,
    };
    expect(await failure(h.passgate.startRegistration({ session: ghost }))).toMatchObject({
      code: 'unauthenticated',
    });
  });

  it('checks the cap again at finish: two ceremonies started under it cannot both land', async () => {
    const h = makePassgate({ maxCredentialsPerAccount: 2 });
    const alice = await signUp(h, new SoftwareAuthenticator(), 'alice');
    const first = await registrationAttempt(h, new SoftwareAuthenticator(), { session: alice.session });
    const second = await registrationAttempt(h, new SoftwareAuthenticator(), { session: alice.session });
    await first.finish();
    expect(await failure(second.finish())).toMatchObject({ code: 'too_many_credentials' });
    expect(await h.stores.credentials.listByUserHandle(alice.account.userHandle)).toHaveLength(2);
  });

  it('caps the number of passkeys per account', async () => {
    const h = makePassgate({ maxCredentialsPerAccount: 2 });
    const alice = await signUp(h, new SoftwareAuthenticator(), 'alice');
    await (await registrationAttempt(h, new SoftwareAuthenticator(), { session: alice.session })).finish();
    expect(await failure(h.passgate.startRegistration({ session: alice.session }))).toMatchObject({
      code: 'too_many_credentials',
    });
  });
});

describe('usernames and sign-up availability', () => {
  it('answers username_taken at options for an existing username (after normalisation)', async () => {
    const h = makePassgate();
    await signUp(h, new SoftwareAuthenticator(), 'alice');
    expect(await failure(h.passgate.startRegistration({ session: null, username: 'alice' }))).toMatchObject({
      code: 'username_taken',
      status: 409,
    });
    expect(
      await failure(h.passgate.startRegistration({ session: null, username: '  alice ' })),
    ).toMatchObject({
      code: 'username_taken',
    });
  });

  it('reserves nothing at options: of two racing sign-ups the second verify gets username_taken', async () => {
    const h = makePassgate();
    const first = await registrationAttempt(h, new SoftwareAuthenticator(), { username: 'carol' });
    const second = await registrationAttempt(h, new SoftwareAuthenticator(), { username: 'carol' });
    await first.finish();
    expect(await failure(second.finish())).toMatchObject({ code: 'username_taken' });
    expect(await h.stores.credentials.findById(second.response.id)).toBeNull();
  });

  it('requires a username to sign up', async () => {
    const h = makePassgate();
    expect(await failure(h.passgate.startRegistration({ session: null }))).toMatchObject({
      code: 'invalid_request',
      field: 'username',
    });
    expect(await failure(h.passgate.startRegistration({ session: null, username: '   ' }))).toMatchObject({
      code: 'invalid_request',
      field: 'username',
    });
  });

  it('answers unauthenticated when sign-up is off', async () => {
    const h = makePassgate({ signUp: false });
    expect(await failure(h.passgate.startRegistration({ session: null, username: 'alice' }))).toMatchObject({
      code: 'unauthenticated',
      status: 401,
    });
  });
});

describe('ceremony binding', () => {
  it('a stored ceremony of another format version is no ceremony (ceremony_expired)', async () => {
    const h = makePassgate();
    const attempt = await registrationAttempt(h, new SoftwareAuthenticator());
    const stored = await h.stores.challenges.consume(attempt.start.ceremonyId);
    const future = JSON.stringify({ ...JSON.parse(stored as string), v: 2 });
    const ceremonyId = randomBytes(32).toString('base64url');
    await h.stores.challenges.put(ceremonyId, future, 60_000);
    expect(await failure(attempt.finish({ ceremonyId }))).toMatchObject({ code: 'ceremony_expired' });
    // The same state under version 1 verifies: only the version refused it.
    const current = randomBytes(32).toString('base64url');
    await h.stores.challenges.put(current, stored as string, 60_000);
    await expect(attempt.finish({ ceremonyId: current })).resolves.toMatchObject({ signedUp: true });
  });

  it('a ceremony id that randomId could not have made never reaches the store', async () => {
    const h = makePassgate();
    const consumed: string[] = [];
    const consume = h.stores.challenges.consume.bind(h.stores.challenges);
    h.stores.challenges.consume = (id) => {
      consumed.push(id);
      return consume(id);
    };
    const attempt = await registrationAttempt(h, new SoftwareAuthenticator());
    for (const ceremonyId of [`${attempt.start.ceremonyId}A`, attempt.start.ceremonyId.slice(1), 'a*b', '']) {
      expect(await failure(attempt.finish({ ceremonyId }))).toMatchObject({ code: 'ceremony_expired' });
    }
    expect(consumed).toEqual([]);
    await expect(attempt.finish()).resolves.toMatchObject({ signedUp: true });
    expect(consumed).toEqual([attempt.start.ceremonyId]);
  });

  it('consumes a ceremony once: a second finish gets ceremony_expired', async () => {
    const h = makePassgate();
    const attempt = await registrationAttempt(h, new SoftwareAuthenticator());
    await attempt.finish();
    expect(await failure(attempt.finish())).toMatchObject({ code: 'ceremony_expired', status: 400 });
  });

  it('burns the ceremony on a failed verify too', async () => {
    const h = makePassgate();
    const authenticator = new SoftwareAuthenticator();
    const start = await h.passgate.startRegistration({ session: null, username: 'alice' });
    const bad = await authenticator.createCredential(start.options, { origin: 'https://evil.example' });
    const good = await authenticator.createCredential(start.options, { origin: ORIGIN });
    const finish = (response: unknown) =>
      h.passgate.finishRegistration({
        ceremonyId: start.ceremonyId,
        response: response as never,
        session: null,
      });
    expect(await failure(finish(bad))).toMatchObject({
      code: 'verification_failed',
      reason: 'origin_mismatch',
    });
    expect(await failure(finish(good))).toMatchObject({ code: 'ceremony_expired' });
    expect(await h.stores.accounts.findByUsername('alice')).toBeNull();
  });

  it('refuses an authentication ceremony used to finish a registration (and vice versa)', async () => {
    const h = makePassgate();
    const attempt = await registrationAttempt(h, new SoftwareAuthenticator());
    const login = await h.passgate.startAuthentication();
    expect(await failure(attempt.finish({ ceremonyId: login.ceremonyId }))).toMatchObject({
      code: 'ceremony_expired',
    });

    const authenticator = new SoftwareAuthenticator();
    const { session } = await signUp(h, authenticator, 'bob');
    expect(session).toBeTruthy();
    const signup = await h.passgate.startRegistration({ session: null, username: 'dave' });
    const loginStart = await h.passgate.startAuthentication();
    const assertion = await authenticator.getAssertion(loginStart.options, { origin: ORIGIN });
    expect(
      await failure(
        h.passgate.finishAuthentication({ ceremonyId: signup.ceremonyId, response: assertion as never }),
      ),
    ).toMatchObject({ code: 'ceremony_expired' });
  });

  it('expires the ceremony after the challenge TTL', async () => {
    const h = makePassgate({ policy: { challengeTtlSeconds: 60 } });
    const attempt = await registrationAttempt(h, new SoftwareAuthenticator());
    expect(attempt.start.expiresAt.getTime()).toBe(h.clock.now + 60_000);
    h.clock.now += 60_001;
    expect(await failure(attempt.finish())).toMatchObject({ code: 'ceremony_expired' });
  });

  it('accepts a verify just inside the TTL', async () => {
    const h = makePassgate({ policy: { challengeTtlSeconds: 60 } });
    const attempt = await registrationAttempt(h, new SoftwareAuthenticator());
    h.clock.now += 59_000;
    await expect(attempt.finish()).resolves.toMatchObject({ signedUp: true });
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['malformed', 'not a ceremony id'],
    ['too short', 'abc'],
    ['well-formed but unknown', b64(randomBytes(32))],
  ])('answers ceremony_expired for a %s ceremony id', async (_label, ceremonyId) => {
    const h = makePassgate();
    const attempt = await registrationAttempt(h, new SoftwareAuthenticator());
    expect(await failure(attempt.finish({ ceremonyId }))).toMatchObject({ code: 'ceremony_expired' });
    // The real ceremony is untouched by a bad id.
    await expect(attempt.finish()).resolves.toMatchObject({ signedUp: true });
  });
});

describe('credential ids', () => {
  it('rejects id different from rawId', async () => {
    const h = makePassgate();
    const attempt = await registrationAttempt(h, new SoftwareAuthenticator(), {
      ctx: { id: b64(randomBytes(32)) },
    });
    expect(await failure(attempt.finish())).toMatchObject({
      code: 'verification_failed',
      reason: 'id_raw_id_mismatch',
    });
  });

  it('rejects a 1024-byte credential id', async () => {
    const h = makePassgate();
    const attempt = await registrationAttempt(h, new SoftwareAuthenticator(), {
      ctx: { credentialId: new Uint8Array(randomBytes(1024)) },
    });
    expect(await failure(attempt.finish())).toMatchObject({
      code: 'verification_failed',
      reason: 'credential_id_too_long',
    });
    expect(await h.stores.accounts.findByUsername('alice')).toBeNull();
  });

  it('accepts a 1023-byte credential id', async () => {
    const h = makePassgate();
    const attempt = await registrationAttempt(h, new SoftwareAuthenticator(), {
      ctx: { credentialId: new Uint8Array(randomBytes(1023)) },
    });
    const result = await attempt.finish();
    expect(bytesOf(result.credential.id)).toHaveLength(1023);
  });

  it('rejects a response id that differs from the credential id in the authenticator data', async () => {
    const h = makePassgate();
    const other = b64(randomBytes(32));
    const attempt = await registrationAttempt(h, new SoftwareAuthenticator(), {
      ctx: { id: other, rawId: other },
    });
    expect(await failure(attempt.finish())).toMatchObject({
      code: 'verification_failed',
      reason: 'credential_id_mismatch',
    });
    expect(await h.stores.credentials.findById(other)).toBeNull();
  });

  it('answers credential_exists when the credential id is registered to another account', async () => {
    const h = makePassgate();
    const id = new Uint8Array(randomBytes(32));
    await signUp(h, new SoftwareAuthenticator(), 'alice', { ctx: { credentialId: id } });
    const attempt = await registrationAttempt(h, new SoftwareAuthenticator(), {
      username: 'bob',
      ctx: { credentialId: id },
    });
    expect(await failure(attempt.finish())).toMatchObject({ code: 'credential_exists', status: 409 });
    expect(await h.stores.accounts.findByUsername('bob')).toBeNull();
  });

  it('answers credential_exists when adding an id that another account has', async () => {
    const h = makePassgate();
    const id = new Uint8Array(randomBytes(32));
    const alice = await signUp(h, new SoftwareAuthenticator(), 'alice', { ctx: { credentialId: id } });
    const bob = await signUp(h, new SoftwareAuthenticator(), 'bob');
    const attempt = await registrationAttempt(h, new SoftwareAuthenticator(), {
      session: bob.session,
      ctx: { credentialId: id },
    });
    expect(await failure(attempt.finish())).toMatchObject({ code: 'credential_exists' });
    expect((await h.stores.credentials.findById(alice.credential.id))?.userHandle).toBe(
      alice.session.userHandle,
    );
  });
});

describe('cross-origin and top origin', () => {
  it('rejects crossOrigin: true without topOrigin', async () => {
    const h = makePassgate({ rp: { topOrigins: ['https://embedder.example'] } });
    const attempt = await registrationAttempt(h, new SoftwareAuthenticator(), { ctx: { crossOrigin: true } });
    expect(await failure(attempt.finish())).toMatchObject({
      code: 'verification_failed',
      reason: 'cross_origin_without_top_origin',
    });
  });

  it('rejects a cross-origin registration when no top origins are configured', async () => {
    const h = makePassgate();
    const attempt = await registrationAttempt(h, new SoftwareAuthenticator(), {
      ctx: { crossOrigin: true, topOrigin: 'https://embedder.example' },
    });
    expect(await failure(attempt.finish())).toMatchObject({
      code: 'verification_failed',
      reason: 'top_origin_not_allowed',
    });
  });

  it('accepts a cross-origin registration from a configured top origin', async () => {
    const h = makePassgate({ rp: { topOrigins: ['https://embedder.example'] } });
    const attempt = await registrationAttempt(h, new SoftwareAuthenticator(), {
      ctx: { crossOrigin: true, topOrigin: 'https://embedder.example' },
    });
    await expect(attempt.finish()).resolves.toMatchObject({ signedUp: true });
  });

  it('rejects a top origin that is not configured', async () => {
    const h = makePassgate({ rp: { topOrigins: ['https://embedder.example'] } });
    const attempt = await registrationAttempt(h, new SoftwareAuthenticator(), {
      ctx: { crossOrigin: true, topOrigin: 'https://evil.example' },
    });
    expect(await failure(attempt.finish())).toMatchObject({
      code: 'verification_failed',
      reason: 'top_origin_not_allowed',
    });
  });

  it('rejects topOrigin without crossOrigin', async () => {
    const h = makePassgate({ rp: { topOrigins: ['https://embedder.example'] } });
    const attempt = await registrationAttempt(h, new SoftwareAuthenticator(), {
      ctx: { crossOrigin: false, topOrigin: 'https://embedder.example' },
    });
    expect(await failure(attempt.finish())).toMatchObject({
      code: 'verification_failed',
      reason: 'top_origin_without_cross_origin',
    });
  });

  it('rejects a non-boolean crossOrigin', async () => {
    const h = makePassgate();
    const start = await h.passgate.startRegistration({ session: null, username: 'alice' });
    const raw = await new SoftwareAuthenticator().createCredential(start.options, {
      origin: ORIGIN,
      clientDataJSON: JSON.stringify({
        type: 'webauthn.create',
        challenge: start.options.challenge,
        origin: ORIGIN,
        crossOrigin: 'yes',
      }),
    });
    expect(
      await failure(
        h.passgate.finishRegistration({
          ceremonyId: start.ceremonyId,
          response: raw as never,
          session: null,
        }),
      ),
    ).toMatchObject({ code: 'verification_failed', reason: 'cross_origin_invalid' });
  });
});

describe('client data and authenticator data checks', () => {
  it.each([
    ['challenge', { challenge: b64(randomBytes(32)) }, 'challenge_mismatch'],
    ['origin', { origin: 'https://app.example.com.evil.example' }, 'origin_mismatch'],
    ['RP ID hash', { rpId: 'evil.example' }, 'rp_id_mismatch'],
    ['type', { type: 'webauthn.get' }, 'type_mismatch'],
  ] as const)('rejects a wrong %s', async (_label, ctx, reason) => {
    const h = makePassgate();
    const attempt = await registrationAttempt(h, new SoftwareAuthenticator(), { ctx });
    expect(await failure(attempt.finish())).toMatchObject({ code: 'verification_failed', reason });
  });

  it('rejects missing user presence', async () => {
    const h = makePassgate();
    const attempt = await registrationAttempt(h, new SoftwareAuthenticator(), {
      ctx: { flags: { up: false } },
    });
    expect(await failure(attempt.finish())).toMatchObject({
      code: 'verification_failed',
      reason: 'user_presence_missing',
    });
  });

  it('rejects a corrupted packed self-attestation signature', async () => {
    const h = makePassgate();
    const start = await h.passgate.startRegistration({ session: null, username: 'alice' });
    const raw = await new SoftwareAuthenticator({ attestation: 'packed' }).createCredential(start.options, {
      origin: ORIGIN,
    });
    // Flip a byte of clientDataJSON's challenge-irrelevant tail: rebuild the JSON with an extra member.
    const clientData = JSON.parse(Buffer.from(raw.response.clientDataJSON, 'base64url').toString());
    clientData.extra = 'tampered';
    raw.response.clientDataJSON = b64(Buffer.from(JSON.stringify(clientData)));
    expect(
      await failure(
        h.passgate.finishRegistration({
          ceremonyId: start.ceremonyId,
          response: raw as never,
          session: null,
        }),
      ),
    ).toMatchObject({ code: 'verification_failed' });
  });

  it('rejects leftover bytes after the authenticator data', async () => {
    const h = makePassgate();
    const attempt = await registrationAttempt(h, new SoftwareAuthenticator(), {
      ctx: { trailingBytes: Uint8Array.of(0, 1, 2) },
    });
    expect(await failure(attempt.finish())).toMatchObject({
      code: 'verification_failed',
      reason: 'malformed_authenticator_data',
    });
  });
});

describe('policy', () => {
  it('rejects a response without UV when the policy requires it', async () => {
    const h = makePassgate({ policy: { userVerification: 'required' } });
    const attempt = await registrationAttempt(h, new SoftwareAuthenticator({ userVerification: false }));
    expect(attempt.start.options.authenticatorSelection?.userVerification).toBe('required');
    expect(await failure(attempt.finish())).toMatchObject({
      code: 'verification_failed',
      reason: 'user_verification_missing',
    });
  });

  it('accepts a response without UV under the preferred policy', async () => {
    const h = makePassgate({ policy: { userVerification: 'preferred' } });
    const attempt = await registrationAttempt(h, new SoftwareAuthenticator({ userVerification: false }));
    const result = await attempt.finish();
    expect(result.session?.userVerified).toBe(false);
  });

  it('rejects an algorithm that was not offered', async () => {
    const h = makePassgate({ policy: { algorithms: [-7] } });
    const attempt = await registrationAttempt(h, new SoftwareAuthenticator(), {
      ctx: { algorithm: 'Ed25519' },
    });
    expect(attempt.start.options.pubKeyCredParams.map((p) => p.alg)).toEqual([-7]);
    expect(await failure(attempt.finish())).toMatchObject({
      code: 'verification_failed',
      reason: 'algorithm_not_allowed',
    });
  });

  describe('the policy stored with the ceremony, not the verifying instance', () => {
    const pair = (a: Parameters<typeof makePassgate>[0], b: Parameters<typeof makePassgate>[0]) => {
      const first = makePassgate(a);
      const second = makePassgate(b, { stores: first.stores, clock: first.clock });
      return [first, second] as const;
    };

    it('options under required UV, verified by a preferred instance: still rejected without UV', async () => {
      const [strict, lax] = pair(
        { policy: { userVerification: 'required' } },
        { policy: { userVerification: 'preferred' } },
      );
      const attempt = await registrationAttempt(
        strict,
        new SoftwareAuthenticator({ userVerification: false }),
        { finishOn: lax },
      );
      expect(await failure(attempt.finish())).toMatchObject({
        code: 'verification_failed',
        reason: 'user_verification_missing',
      });
    });

    it('options under preferred UV, verified by a required instance: accepted without UV', async () => {
      const [lax, strict] = pair(
        { policy: { userVerification: 'preferred' } },
        { policy: { userVerification: 'required' } },
      );
      const attempt = await registrationAttempt(lax, new SoftwareAuthenticator({ userVerification: false }), {
        finishOn: strict,
      });
      await expect(attempt.finish()).resolves.toMatchObject({ signedUp: true });
    });

    it('options offering only ES256, verified by an instance allowing Ed25519: Ed25519 rejected', async () => {
      const [narrow, wide] = pair({ policy: { algorithms: [-7] } }, { policy: { algorithms: [-8, -7] } });
      const attempt = await registrationAttempt(narrow, new SoftwareAuthenticator(), {
        ctx: { algorithm: 'Ed25519' },
        finishOn: wide,
      });
      expect(await failure(attempt.finish())).toMatchObject({
        code: 'verification_failed',
        reason: 'algorithm_not_allowed',
      });
    });
  });

  describe('attestation', () => {
    const direct = { attestation: { conveyance: 'direct' as const, allowSelfAttestation: true } };

    it('asks for direct attestation and accepts packed self attestation when allowed', async () => {
      const h = makePassgate({ policy: direct });
      const attempt = await registrationAttempt(h, new SoftwareAuthenticator({ attestation: 'packed' }));
      expect(attempt.start.options.attestation).toBe('direct');
      const result = await attempt.finish();
      expect((await h.stores.credentials.findById(result.credential.id))?.attestationFormat).toBe('packed');
    });

    it('rejects a none attestation under the direct policy', async () => {
      const h = makePassgate({ policy: direct });
      const attempt = await registrationAttempt(h, new SoftwareAuthenticator({ attestation: 'none' }));
      expect(await failure(attempt.finish())).toMatchObject({
        code: 'verification_failed',
        reason: 'attestation_required',
      });
    });

    it('rejects packed self attestation when only certificate chains are trusted', async () => {
      const h = makePassgate({
        policy: { attestation: { conveyance: 'direct', rootCertificates: { packed: [TEST_ROOT_PEM] } } },
      });
      const attempt = await registrationAttempt(h, new SoftwareAuthenticator({ attestation: 'packed' }));
      expect(await failure(attempt.finish())).toMatchObject({
        code: 'verification_failed',
        reason: 'attestation_not_trusted',
      });
    });

    it('accepts packed self attestation under the none policy too (and verifies it)', async () => {
      const h = makePassgate();
      const attempt = await registrationAttempt(h, new SoftwareAuthenticator({ attestation: 'packed' }));
      expect(attempt.start.options.attestation).toBe('none');
      await expect(attempt.finish()).resolves.toMatchObject({ signedUp: true });
    });
  });

  describe('authenticator policy', () => {
    it('deviceBoundOnly rejects a backup-eligible credential', async () => {
      const h = makePassgate({ policy: { deviceBoundOnly: true } });
      const attempt = await registrationAttempt(h, new SoftwareAuthenticator({ backupEligible: true }));
      expect(await failure(attempt.finish())).toMatchObject({
        code: 'verification_failed',
        reason: 'device_bound_required',
      });
    });

    it('deviceBoundOnly accepts a device-bound credential', async () => {
      const h = makePassgate({ policy: { deviceBoundOnly: true } });
      const attempt = await registrationAttempt(h, new SoftwareAuthenticator({ backupEligible: false }));
      const result = await attempt.finish();
      expect(result.credential.deviceType).toBe('singleDevice');
    });

    it('rejects an AAGUID outside allowedAaguids, accepts one inside (case-insensitively)', async () => {
      const h = makePassgate({ policy: { allowedAaguids: [ICLOUD.toUpperCase()] } });
      const bad = await registrationAttempt(h, new SoftwareAuthenticator({ aaguid: TEST_AAGUID }));
      expect(await failure(bad.finish())).toMatchObject({
        code: 'verification_failed',
        reason: 'authenticator_not_allowed',
      });
      const good = await registrationAttempt(h, new SoftwareAuthenticator({ aaguid: ICLOUD }), {
        username: 'bob',
      });
      const result = await good.finish();
      expect(result.credential).toMatchObject({ aaguid: ICLOUD, authenticatorName: 'Apple Passwords' });
    });

    it('rejects a denied AAGUID and accepts others', async () => {
      const h = makePassgate({ policy: { deniedAaguids: [TEST_AAGUID] } });
      const bad = await registrationAttempt(h, new SoftwareAuthenticator());
      expect(await failure(bad.finish())).toMatchObject({
        code: 'verification_failed',
        reason: 'authenticator_not_allowed',
      });
      const good = await registrationAttempt(h, new SoftwareAuthenticator({ aaguid: ICLOUD }), {
        username: 'bob',
      });
      await expect(good.finish()).resolves.toMatchObject({ signedUp: true });
    });

    it('verifies by the allow/deny policy stored with the ceremony, not the finishing instance', async () => {
      // Two instances sharing one store with different policies (a rolling deploy): the options'
      // instance decides, whichever instance finishes.
      const strict = makePassgate({ policy: { deniedAaguids: [TEST_AAGUID], deviceBoundOnly: true } });
      const open = makePassgate({}, strict);
      const startedStrict = await registrationAttempt(strict, new SoftwareAuthenticator(), {
        finishOn: open,
      });
      expect(await failure(startedStrict.finish())).toMatchObject({
        code: 'verification_failed',
        reason: 'authenticator_not_allowed',
      });
      const synced = new SoftwareAuthenticator({ aaguid: ICLOUD, backupEligible: true, backedUp: true });
      const startedStrictSynced = await registrationAttempt(strict, synced, {
        username: 'carol',
        finishOn: open,
      });
      expect(await failure(startedStrictSynced.finish())).toMatchObject({
        code: 'verification_failed',
        reason: 'device_bound_required',
      });
      const startedOpen = await registrationAttempt(open, new SoftwareAuthenticator(), {
        username: 'bob',
        finishOn: strict,
      });
      await expect(startedOpen.finish()).resolves.toMatchObject({ signedUp: true });
    });
  });
});

describe('registration events', () => {
  it('reports a failed registration with its reason', async () => {
    const h = makePassgate();
    const attempt = await registrationAttempt(h, new SoftwareAuthenticator(), {
      ctx: { origin: 'https://evil.example' },
    });
    await failure(attempt.finish());
    expect(eventsNamed(h, 'verification_failed')).toEqual([
      expect.objectContaining({
        ceremony: 'registration',
        code: 'verification_failed',
        reason: 'origin_mismatch',
      }),
    ]);
    expect(eventsNamed(h, 'registered')).toHaveLength(0);
  });

  it('reports registered with signUp false when adding a passkey', async () => {
    const h = makePassgate();
    const alice = await signUp(h, new SoftwareAuthenticator(), 'alice');
    await (await registrationAttempt(h, new SoftwareAuthenticator(), { session: alice.session })).finish();
    expect(eventsNamed(h, 'registered').map((e) => e.signUp)).toEqual([true, false]);
  });
});

describe('malformed CBOR', () => {
  it('rejects a 10,000-deep nested attestation object as verification_failed (no stack overflow)', async () => {
    const h = makePassgate();
    const attempt = await registrationAttempt(h, new SoftwareAuthenticator());
    const response = {
      ...attempt.response,
      response: { ...attempt.response.response, attestationObject: b64(nestedCborArrays(10_000)) },
    };
    const error = await failure(
      h.passgate.finishRegistration({ ceremonyId: attempt.start.ceremonyId, response, session: null }),
    );
    expect(error).toMatchObject({ code: 'verification_failed', reason: 'malformed_attestation_object' });
  });

  it('rejects an attestation object without authData', async () => {
    const h = makePassgate();
    const attempt = await registrationAttempt(h, new SoftwareAuthenticator());
    const noAuthData = encodeCbor(
      new Map<string, CborValue>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
      ]),
    );
    const response = {
      ...attempt.response,
      response: { ...attempt.response.response, attestationObject: b64(noAuthData) },
    };
    const error = await failure(
      h.passgate.finishRegistration({ ceremonyId: attempt.start.ceremonyId, response, session: null }),
    );
    expect(error).toMatchObject({ code: 'verification_failed', reason: 'malformed_attestation_object' });
  });

  it('rejects deep nesting inside attStmt', async () => {
    const h = makePassgate();
    const attempt = await registrationAttempt(h, new SoftwareAuthenticator());
    const original = bytesOf(attempt.response.response.attestationObject);
    // {"fmt": "none", "attStmt": {"x": [[[...]]]}, "authData": ...}: rebuild with a nested attStmt.
    const authDataAt = Buffer.from(original).indexOf(Buffer.from('authData'));
    const tail = original.subarray(authDataAt - 1);
    const head = Buffer.concat([
      Uint8Array.of(0xa3, 0x63, ...Buffer.from('fmt'), 0x64, ...Buffer.from('none')),
      Uint8Array.of(0x67, ...Buffer.from('attStmt'), 0xa1, 0x61, 0x78),
      nestedCborArrays(100),
    ]);
    const response = {
      ...attempt.response,
      response: { ...attempt.response.response, attestationObject: b64(Buffer.concat([head, tail])) },
    };
    expect(
      await failure(
        h.passgate.finishRegistration({ ceremonyId: attempt.start.ceremonyId, response, session: null }),
      ),
    ).toMatchObject({ code: 'verification_failed', reason: 'malformed_attestation_object' });
  });

  it('rejects bytes after the attestation object', async () => {
    const h = makePassgate();
    const attempt = await registrationAttempt(h, new SoftwareAuthenticator());
    const bytes = Buffer.concat([bytesOf(attempt.response.response.attestationObject), Uint8Array.of(0x00)]);
    const response = {
      ...attempt.response,
      response: { ...attempt.response.response, attestationObject: b64(bytes) },
    };
    expect(
      await failure(
        h.passgate.finishRegistration({ ceremonyId: attempt.start.ceremonyId, response, session: null }),
      ),
    ).toMatchObject({ code: 'verification_failed', reason: 'malformed_attestation_object' });
  });

  it('rejects deeply nested registration extensions', async () => {
    const h = makePassgate();
    const attempt = await registrationAttempt(h, new SoftwareAuthenticator(), {
      ctx: { flags: { ed: true }, trailingBytes: nestedCborArrays(5_000) },
    });
    expect(await failure(attempt.finish())).toMatchObject({
      code: 'verification_failed',
      reason: 'malformed_authenticator_data',
    });
  });
});
