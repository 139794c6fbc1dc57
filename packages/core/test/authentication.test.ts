import { randomBytes } from 'node:crypto';
import type { PasskeySession, PendingSignIn } from '@passgate/core';
import { SoftwareAuthenticator } from '@passgate/testing';
import { describe, expect, it, vi } from 'vitest';
import {
  asAuthentication,
  authenticationAttempt,
  b64,
  bytesOf,
  eventsNamed,
  failure,
  forgedAttempt,
  makePassgate,
  nestedCborArrays,
  ORIGIN,
  SECRET,
  signIn,
  signUp,
} from './helpers.js';

describe('usernameless sign-in', () => {
  it('signs in with a discoverable credential and updates it', async () => {
    const h = makePassgate();
    const authenticator = new SoftwareAuthenticator();
    const up = await signUp(h, authenticator, 'alice');
    h.clock.now += 1234;
    const start = await h.passgate.startAuthentication();
    expect(start.options.allowCredentials).toEqual([]);
    expect(start.options.userVerification).toBe('preferred');
    const assertion = await authenticator.getAssertion(start.options, { origin: ORIGIN });
    const result = await h.passgate.finishAuthentication({
      ceremonyId: start.ceremonyId,
      response: assertion as never,
    });
    expect(result.user).toEqual(up.user);
    expect(result.credential).toMatchObject({
      id: up.credential.id,
      lastUsedAt: new Date(h.clock.now).toISOString(),
    });
    expect(result.session).toEqual({
      userId: up.user.id,
      userHandle: up.session.userHandle,
      credentialId: up.credential.id,
      authenticatedAt: h.clock.now,
      userVerified: true,
    });
    const stored = await h.stores.credentials.findById(up.credential.id);
    expect(stored?.counter).toBe(1);
    expect(stored?.lastUsedAt?.getTime()).toBe(h.clock.now);
    expect(eventsNamed(h, 'signed_in')).toHaveLength(1);
  });

  it('requires the user handle in the discoverable flow', async () => {
    const h = makePassgate();
    const authenticator = new SoftwareAuthenticator();
    await signUp(h, authenticator, 'alice');
    const attempt = await authenticationAttempt(h, authenticator, { ctx: { userHandle: null } });
    expect(await failure(attempt.finish())).toMatchObject({
      code: 'verification_failed',
      reason: 'user_handle_missing',
    });
  });

  it("rejects a user handle that is not the owner's", async () => {
    const h = makePassgate();
    const authenticator = new SoftwareAuthenticator();
    await signUp(h, authenticator, 'alice');
    const bob = await signUp(h, new SoftwareAuthenticator(), 'bob');
    const attempt = await authenticationAttempt(h, authenticator, {
      ctx: { userHandle: bob.session.userHandle },
    });
    expect(await failure(attempt.finish())).toMatchObject({
      code: 'verification_failed',
      reason: 'user_handle_mismatch',
    });
  });

  it('rejects a wrong user handle in the username-first flow too', async () => {
    const h = makePassgate();
    const authenticator = new SoftwareAuthenticator();
    await signUp(h, authenticator, 'alice');
    const attempt = await authenticationAttempt(h, authenticator, {
      username: 'alice',
      ctx: { userHandle: b64(randomBytes(32)) },
    });
    expect(await failure(attempt.finish())).toMatchObject({
      code: 'verification_failed',
      reason: 'user_handle_mismatch',
    });
  });

  it('answers unknown_credential with the credential id for a credential nobody has', async () => {
    const h = makePassgate();
    const authenticator = new SoftwareAuthenticator();
    const other = makePassgate();
    const up = await signUp(other, authenticator, 'alice');
    const attempt = await authenticationAttempt(h, authenticator);
    const error = await failure(attempt.finish());
    expect(error).toMatchObject({ code: 'unknown_credential', status: 401, credentialId: up.credential.id });
    expect(error.toJSON().error.credentialId).toBe(up.credential.id);
  });
});

describe('username-first sign-in', () => {
  it("lists the account's credentials with their transports", async () => {
    const h = makePassgate();
    const phone = new SoftwareAuthenticator({ transports: ['hybrid'] });
    const key = new SoftwareAuthenticator({ transports: ['usb', 'nfc'], discoverable: false });
    const alice = await signUp(h, phone, 'alice');
    h.clock.now += 1000;
    const start2 = await h.passgate.startRegistration({ session: alice.session });
    const added = await key.createCredential(start2.options, { origin: ORIGIN });
    await h.passgate.finishRegistration({
      ceremonyId: start2.ceremonyId,
      response: added as never,
      session: alice.session,
    });
    const { options } = await h.passgate.startAuthentication({ username: 'alice' });
    expect(options.allowCredentials).toEqual([
      { id: alice.credential.id, type: 'public-key', transports: ['hybrid'] },
      { id: added.id, type: 'public-key', transports: ['usb', 'nfc'] },
    ]);
    // A non-discoverable security key signs in without a user handle.
    const result = await signIn(h, key, { username: 'alice' });
    expect(result.credential.id).toBe(added.id);
  });

  it("rejects a credential the options did not list, even another account's valid one", async () => {
    const h = makePassgate();
    const aliceKey = new SoftwareAuthenticator();
    const bobKey = new SoftwareAuthenticator();
    await signUp(h, aliceKey, 'alice');
    const bob = await signUp(h, bobKey, 'bob');
    const start = await h.passgate.startAuthentication({ username: 'alice' });
    const assertion = await bobKey.getAssertion(
      { ...start.options, allowCredentials: [] },
      { origin: ORIGIN },
    );
    expect(assertion.id).toBe(bob.credential.id);
    expect(
      await failure(
        h.passgate.finishAuthentication({ ceremonyId: start.ceremonyId, response: assertion as never }),
      ),
    ).toMatchObject({ code: 'verification_failed', reason: 'credential_not_allowed' });
  });

  // §7.2 step 6: the passkey must be the identified account's. The options listed only its ids, but
  // an authenticator picks its own credential ids, so another account may hold a listed id by the
  // time of the verify.
  it('refuses a listed id that another account registered since: it signs no one in', async () => {
    const h = makePassgate({ allowDeletingLastCredential: true });
    const alice = await signUp(h, new SoftwareAuthenticator(), 'alice');
    const start = await h.passgate.startAuthentication({ username: 'alice' });
    await h.passgate.deleteCredential(alice.session, alice.credential.id);
    const mallory = new SoftwareAuthenticator();
    await signUp(h, mallory, 'mallory', { ctx: { credentialId: bytesOf(alice.credential.id) } });
    const raw = await mallory.getAssertion(start.options, { origin: ORIGIN });
    const error = await failure(
      h.passgate.finishAuthentication({ ceremonyId: start.ceremonyId, response: asAuthentication(raw) }),
    );
    expect(error).toMatchObject({ code: 'verification_failed', reason: 'credential_not_owned' });
    expect(eventsNamed(h, 'signed_in')).toEqual([]);
  });

  describe('decoys for unknown usernames', () => {
    it('are stable: the same ids on every call, with the same shape as real ones', async () => {
      const h = makePassgate();
      const first = await h.passgate.startAuthentication({ username: 'nobody' });
      const second = await h.passgate.startAuthentication({ username: 'nobody' });
      const ids = first.options.allowCredentials!.map((c) => c.id);
      expect(second.options.allowCredentials!.map((c) => c.id)).toEqual(ids);
      expect(ids.length).toBeGreaterThanOrEqual(1);
      expect(ids.length).toBeLessThanOrEqual(25);
      for (const c of first.options.allowCredentials!) {
        expect(c.type).toBe('public-key');
        expect(Array.isArray(c.transports)).toBe(true);
        const length = bytesOf(c.id).length;
        expect(length).toBeGreaterThanOrEqual(16);
        expect(length).toBeLessThanOrEqual(64);
      }
      // Stable across instances that share the secret.
      const other = makePassgate();
      const again = await other.passgate.startAuthentication({ username: 'nobody' });
      expect(again.options.allowCredentials!.map((c) => c.id)).toEqual(ids);
    });

    it('differ per username and per secret', async () => {
      const h = makePassgate();
      const a = await h.passgate.startAuthentication({ username: 'nobody' });
      const b = await h.passgate.startAuthentication({ username: 'somebody' });
      expect(b.options.allowCredentials).not.toEqual(a.options.allowCredentials);
      const other = makePassgate({ secret: `${SECRET}-but-different` });
      const c = await other.passgate.startAuthentication({ username: 'nobody' });
      expect(c.options.allowCredentials).not.toEqual(a.options.allowCredentials);
    });

    it('vary in count and length across usernames, within the account cap', async () => {
      const h = makePassgate({ maxCredentialsPerAccount: 5 });
      const counts = new Set<number>();
      const lengths = new Set<number>();
      for (let i = 0; i < 300; i++) {
        const { options } = await h.passgate.startAuthentication({ username: `ghost-${i}` });
        counts.add(options.allowCredentials!.length);
        for (const c of options.allowCredentials!) lengths.add(bytesOf(c.id).length);
      }
      expect([...counts].sort()).toEqual([1, 2, 3, 4, 5]);
      expect(lengths.size).toBeGreaterThan(10);
    });

    it('an account without passkeys gets decoys, not an empty list', async () => {
      const h = makePassgate();
      await signUp(h, new SoftwareAuthenticator(), 'alice');
      const account = (await h.stores.accounts.findByUsername('alice'))!;
      const [only] = await h.stores.credentials.listByUserHandle(account.userHandle);
      await h.stores.credentials.delete(account.userHandle, only!.id, { allowLast: true });
      const { options } = await h.passgate.startAuthentication({ username: 'alice' });
      expect(options.allowCredentials!.length).toBeGreaterThan(0);
    });

    it('a verify for a decoy id answers exactly what a bad assertion for a real account does (400 verification_failed)', async () => {
      const h = makePassgate();
      await signUp(h, new SoftwareAuthenticator(), 'alice');
      // An attacker's authenticator holding a credential with the listed id, under its own key.
      const decoy = await forgedAttempt(h, 'nobody');
      const real = await forgedAttempt(h, 'alice');
      expect(decoy.response.id).toBe(decoy.listed);
      const answers = [];
      for (const attempt of [decoy, real]) {
        const error = await failure(attempt.finish());
        answers.push({ status: error.status, body: error.toJSON() });
      }
      expect(answers[0]).toEqual({
        status: 400,
        body: { error: { code: 'verification_failed', message: expect.any(String) } },
      });
      expect(answers[0]).toEqual(answers[1]);
    });

    it('a decoy id registered by another account signs no one in', async () => {
      const h = makePassgate();
      const start = await h.passgate.startAuthentication({ username: 'nobody' });
      const decoy = start.options.allowCredentials?.[0]?.id as string;
      const mallory = new SoftwareAuthenticator();
      await signUp(h, mallory, 'mallory', { ctx: { credentialId: bytesOf(decoy) } });
      const raw = await mallory.getAssertion(start.options, { origin: ORIGIN });
      const error = await failure(
        h.passgate.finishAuthentication({ ceremonyId: start.ceremonyId, response: asAuthentication(raw) }),
      );
      expect(error).toMatchObject({ code: 'verification_failed', reason: 'credential_not_owned' });
      expect(eventsNamed(h, 'signed_in')).toEqual([]);
    });

    it('discoverable: a credential nobody has is still unknown_credential with its id (for signalUnknownCredential)', async () => {
      const h = makePassgate();
      const stranger = new SoftwareAuthenticator();
      await signUp(makePassgate(), stranger, 'elsewhere');
      const attempt = await authenticationAttempt(h, stranger);
      expect(await failure(attempt.finish())).toMatchObject({
        code: 'unknown_credential',
        credentialId: attempt.response.id,
      });
    });
  });
});

describe('assertion checks', () => {
  const setup = async (
    authenticator = new SoftwareAuthenticator(),
    overrides: Parameters<typeof makePassgate>[0] = {},
  ) => {
    const h = makePassgate(overrides);
    const up = await signUp(h, authenticator, 'alice');
    return { h, authenticator, up };
  };

  it('rejects a corrupted signature (the library answers verified: false)', async () => {
    const { h, authenticator, up } = await setup();
    const attempt = await authenticationAttempt(h, authenticator, { ctx: { signature: 'corrupt' } });
    expect(await failure(attempt.finish())).toMatchObject({
      code: 'verification_failed',
      reason: 'signature_invalid',
    });
    const stored = await h.stores.credentials.findById(up.credential.id);
    expect(stored).toMatchObject({ counter: 0, lastUsedAt: null });
  });

  it.each([
    ['challenge', { challenge: b64(randomBytes(32)) }, 'challenge_mismatch'],
    ['origin', { origin: 'https://evil.example' }, 'origin_mismatch'],
    ['RP ID', { rpId: 'example.org' }, 'rp_id_mismatch'],
    ['type', { type: 'webauthn.create' }, 'type_mismatch'],
  ] as const)('rejects a wrong %s', async (_label, ctx, reason) => {
    const { h, authenticator } = await setup();
    const attempt = await authenticationAttempt(h, authenticator, { ctx });
    expect(await failure(attempt.finish())).toMatchObject({ code: 'verification_failed', reason });
  });

  it('rejects id different from rawId', async () => {
    const { h, authenticator } = await setup();
    const attempt = await authenticationAttempt(h, authenticator, { ctx: { rawId: b64(randomBytes(32)) } });
    expect(await failure(attempt.finish())).toMatchObject({
      code: 'verification_failed',
      reason: 'id_raw_id_mismatch',
    });
  });

  it('rejects a credential id over 1023 bytes before any lookup', async () => {
    const { h, authenticator } = await setup();
    const findById = vi.spyOn(h.stores.credentials, 'findById');
    const long = b64(randomBytes(1024));
    const attempt = await authenticationAttempt(h, authenticator, { ctx: { id: long, rawId: long } });
    expect(await failure(attempt.finish())).toMatchObject({
      code: 'verification_failed',
      reason: 'credential_id_too_long',
    });
    // An oversized id never reaches the store (where an adapter could choke on it).
    expect(findById).not.toHaveBeenCalled();
  });

  it('rejects an empty credential id', async () => {
    const { h, authenticator } = await setup();
    const attempt = await authenticationAttempt(h, authenticator, { ctx: { id: '', rawId: '' } });
    expect(await failure(attempt.finish())).toMatchObject({
      code: 'verification_failed',
      reason: 'credential_id_missing',
    });
  });

  it('rejects a topOrigin that is not a string', async () => {
    const { h, authenticator } = await setup();
    const start = await h.passgate.startAuthentication({});
    const clientDataJSON = JSON.stringify({
      type: 'webauthn.get',
      challenge: start.options.challenge,
      origin: ORIGIN,
      crossOrigin: true,
      topOrigin: 42,
    });
    const raw = await authenticator.getAssertion(start.options, { origin: ORIGIN, clientDataJSON });
    const error = await failure(
      h.passgate.finishAuthentication({ ceremonyId: start.ceremonyId, response: asAuthentication(raw) }),
    );
    expect(error).toMatchObject({ code: 'verification_failed', reason: 'top_origin_invalid' });
  });

  it('rejects missing user presence', async () => {
    const { h, authenticator } = await setup();
    const attempt = await authenticationAttempt(h, authenticator, { ctx: { flags: { up: false } } });
    expect(await failure(attempt.finish())).toMatchObject({
      code: 'verification_failed',
      reason: 'user_presence_missing',
    });
  });

  it('rejects missing UV under the required policy', async () => {
    const { h, authenticator } = await setup(new SoftwareAuthenticator(), {
      policy: { userVerification: 'required' },
    });
    const attempt = await authenticationAttempt(h, authenticator, { ctx: { flags: { uv: false } } });
    expect(attempt.start.options.userVerification).toBe('required');
    expect(await failure(attempt.finish())).toMatchObject({
      code: 'verification_failed',
      reason: 'user_verification_missing',
    });
  });

  it('accepts missing UV under the preferred policy and records it in the session', async () => {
    const { h, authenticator } = await setup();
    authenticator.setUserVerification(false);
    const result = await signIn(h, authenticator);
    expect(result.session.userVerified).toBe(false);
  });

  it('uses the UV policy stored with the ceremony', async () => {
    const strict = makePassgate({ policy: { userVerification: 'required' } });
    const lax = makePassgate(
      { policy: { userVerification: 'preferred' } },
      { stores: strict.stores, clock: strict.clock },
    );
    const authenticator = new SoftwareAuthenticator();
    await signUp(strict, authenticator, 'alice');
    authenticator.setUserVerification(false);
    const attempt = await authenticationAttempt(strict, authenticator, { finishOn: lax });
    expect(await failure(attempt.finish())).toMatchObject({
      code: 'verification_failed',
      reason: 'user_verification_missing',
    });
  });

  it('rejects a change of backup eligibility since registration', async () => {
    const { h, authenticator } = await setup(new SoftwareAuthenticator({ backupEligible: false }));
    const attempt = await authenticationAttempt(h, authenticator, { ctx: { flags: { be: true } } });
    expect(await failure(attempt.finish())).toMatchObject({
      code: 'verification_failed',
      reason: 'backup_eligibility_changed',
    });
    const synced = await setup(new SoftwareAuthenticator({ backupEligible: true }));
    const lost = await authenticationAttempt(synced.h, synced.authenticator, {
      ctx: { flags: { be: false } },
    });
    expect(await failure(lost.finish())).toMatchObject({
      code: 'verification_failed',
      reason: 'backup_eligibility_changed',
    });
  });

  it('rejects backup state without backup eligibility', async () => {
    const { h, authenticator } = await setup(new SoftwareAuthenticator({ backupEligible: false }));
    const attempt = await authenticationAttempt(h, authenticator, { ctx: { flags: { bs: true } } });
    expect(await failure(attempt.finish())).toMatchObject({
      code: 'verification_failed',
      reason: 'backup_flags_invalid',
    });
  });

  it('follows the backup state of the latest sign-in', async () => {
    const { h, authenticator, up } = await setup(
      new SoftwareAuthenticator({ backupEligible: true, backedUp: false }),
    );
    expect(up.credential).toMatchObject({ deviceType: 'multiDevice', backedUp: false });
    const first = await signIn(h, authenticator, { ctx: { flags: { bs: true } } });
    expect(first.credential.backedUp).toBe(true);
    expect((await h.stores.credentials.findById(up.credential.id))?.backedUp).toBe(true);
    const second = await signIn(h, authenticator, { ctx: { flags: { bs: false } } });
    expect(second.credential.backedUp).toBe(false);
    expect((await h.stores.credentials.findById(up.credential.id))?.backedUp).toBe(false);
  });

  it('rejects leftover bytes after the authenticator data', async () => {
    const { h, authenticator } = await setup();
    const attempt = await authenticationAttempt(h, authenticator, {
      ctx: { trailingBytes: Uint8Array.of(0xa0) },
    });
    expect(await failure(attempt.finish())).toMatchObject({
      code: 'verification_failed',
      reason: 'malformed_authenticator_data',
    });
  });

  it('rejects authenticator data shorter than 37 bytes', async () => {
    const { h, authenticator } = await setup();
    const attempt = await authenticationAttempt(h, authenticator);
    const response = {
      ...attempt.response,
      response: { ...attempt.response.response, authenticatorData: b64(randomBytes(30)) },
    };
    expect(
      await failure(h.passgate.finishAuthentication({ ceremonyId: attempt.start.ceremonyId, response })),
    ).toMatchObject({ code: 'verification_failed', reason: 'malformed_authenticator_data' });
  });

  it('rejects clientDataJSON that is not a JSON object', async () => {
    const { h, authenticator } = await setup();
    const attempt = await authenticationAttempt(h, authenticator, { ctx: { clientDataJSON: '[1,2,3]' } });
    expect(await failure(attempt.finish())).toMatchObject({
      code: 'verification_failed',
      reason: 'client_data_invalid',
    });
  });

  it('rejects deeply nested CBOR in the extensions (within the schema size) as verification_failed', async () => {
    const { h, authenticator } = await setup();
    const attempt = await authenticationAttempt(h, authenticator, {
      ctx: { flags: { ed: true }, trailingBytes: nestedCborArrays(5_000) },
    });
    expect(await failure(attempt.finish())).toMatchObject({
      code: 'verification_failed',
      reason: 'malformed_authenticator_data',
    });
  });

  it('rejects 10,000-deep CBOR extensions quickly, even past the schema (direct API use)', async () => {
    const { h, authenticator } = await setup();
    const start = await h.passgate.startAuthentication();
    const raw = await authenticator.getAssertion(start.options, {
      origin: ORIGIN,
      flags: { ed: true },
      trailingBytes: nestedCborArrays(10_000),
    });
    const error = await failure(
      h.passgate.finishAuthentication({ ceremonyId: start.ceremonyId, response: raw as never }),
    );
    expect(error).toMatchObject({ code: 'verification_failed', reason: 'malformed_authenticator_data' });
  });

  it('accepts a small well-formed extensions map', async () => {
    const { h, authenticator } = await setup();
    // {"credProtect": 1}
    const ext = Uint8Array.of(0xa1, 0x6b, ...Buffer.from('credProtect'), 0x01);
    await expect(
      signIn(h, authenticator, { ctx: { flags: { ed: true }, trailingBytes: ext } }),
    ).resolves.toBeTruthy();
  });
});

describe('cross-origin and top origin on sign-in', () => {
  const setup = async (topOrigins?: string[]) => {
    const h = makePassgate(topOrigins ? { rp: { topOrigins } } : {});
    const authenticator = new SoftwareAuthenticator();
    await signUp(h, authenticator, 'alice');
    return { h, authenticator };
  };

  it('rejects crossOrigin: true without topOrigin (the library accepts it)', async () => {
    const { h, authenticator } = await setup(['https://embedder.example']);
    const attempt = await authenticationAttempt(h, authenticator, { ctx: { crossOrigin: true } });
    expect(await failure(attempt.finish())).toMatchObject({
      code: 'verification_failed',
      reason: 'cross_origin_without_top_origin',
    });
  });

  it('rejects a cross-origin sign-in when no top origins are configured', async () => {
    const { h, authenticator } = await setup();
    const attempt = await authenticationAttempt(h, authenticator, {
      ctx: { crossOrigin: true, topOrigin: 'https://embedder.example' },
    });
    expect(await failure(attempt.finish())).toMatchObject({
      code: 'verification_failed',
      reason: 'top_origin_not_allowed',
    });
  });

  it('accepts a cross-origin sign-in from a configured top origin', async () => {
    const { h, authenticator } = await setup(['https://embedder.example']);
    await expect(
      signIn(h, authenticator, { ctx: { crossOrigin: true, topOrigin: 'https://embedder.example' } }),
    ).resolves.toBeTruthy();
  });

  it('rejects a top origin that is not configured', async () => {
    const { h, authenticator } = await setup(['https://embedder.example']);
    const attempt = await authenticationAttempt(h, authenticator, {
      ctx: { crossOrigin: true, topOrigin: 'https://evil.example' },
    });
    expect(await failure(attempt.finish())).toMatchObject({
      code: 'verification_failed',
      reason: 'top_origin_not_allowed',
    });
  });

  it('rejects topOrigin without crossOrigin', async () => {
    const { h, authenticator } = await setup(['https://embedder.example']);
    const attempt = await authenticationAttempt(h, authenticator, {
      ctx: { topOrigin: 'https://embedder.example' },
    });
    expect(await failure(attempt.finish())).toMatchObject({
      code: 'verification_failed',
      reason: 'top_origin_without_cross_origin',
    });
  });
});

describe('signature counter', () => {
  it('accepts an increasing counter and stores it', async () => {
    const h = makePassgate();
    const authenticator = new SoftwareAuthenticator();
    const up = await signUp(h, authenticator, 'alice');
    await signIn(h, authenticator);
    await signIn(h, authenticator, { ctx: { counter: 7 } });
    expect((await h.stores.credentials.findById(up.credential.id))?.counter).toBe(7);
  });

  it('rejects a replayed counter as credential_cloned, reports it, and leaves the credential alone', async () => {
    const h = makePassgate();
    const authenticator = new SoftwareAuthenticator();
    const up = await signUp(h, authenticator, 'alice');
    await signIn(h, authenticator, { ctx: { counter: 5 } });
    const before = await h.stores.credentials.findById(up.credential.id);
    h.clock.now += 60_000;
    for (const counter of [5, 4]) {
      const attempt = await authenticationAttempt(h, authenticator, { ctx: { counter } });
      expect(await failure(attempt.finish())).toMatchObject({ code: 'credential_cloned', status: 401 });
    }
    expect(await h.stores.credentials.findById(up.credential.id)).toEqual(before);
    const reports = eventsNamed(h, 'clone_suspected');
    expect(reports.map((r) => r.receivedCounter)).toEqual([5, 4]);
    expect(reports[0]).toMatchObject({
      credential: { id: up.credential.id, counter: 5 },
      account: { username: 'alice' },
    });
  });

  it('lets an always-zero authenticator sign in repeatedly', async () => {
    const h = makePassgate();
    const authenticator = new SoftwareAuthenticator({ counter: 'zero' });
    const up = await signUp(h, authenticator, 'alice');
    for (let i = 0; i < 3; i++) {
      h.clock.now += 1000;
      const result = await signIn(h, authenticator);
      expect(result.credential.lastUsedAt).toBe(new Date(h.clock.now).toISOString());
    }
    expect((await h.stores.credentials.findById(up.credential.id))?.counter).toBe(0);
  });

  it('treats a drop from a non-zero counter to 0 as a clone', async () => {
    const h = makePassgate();
    const authenticator = new SoftwareAuthenticator();
    await signUp(h, authenticator, 'alice');
    await signIn(h, authenticator, { ctx: { counter: 3 } });
    const attempt = await authenticationAttempt(h, authenticator, { ctx: { counter: 0 } });
    expect(await failure(attempt.finish())).toMatchObject({ code: 'credential_cloned' });
  });

  it('treats a non-zero counter at registration followed by an equal one as a clone', async () => {
    const h = makePassgate();
    const authenticator = new SoftwareAuthenticator();
    await signUp(h, authenticator, 'alice', { ctx: { counter: 9 } });
    const attempt = await authenticationAttempt(h, authenticator, { ctx: { counter: 9 } });
    expect(await failure(attempt.finish())).toMatchObject({ code: 'credential_cloned' });
  });

  it('never moves the counter on a failed verification', async () => {
    const h = makePassgate();
    const authenticator = new SoftwareAuthenticator();
    const up = await signUp(h, authenticator, 'alice');
    await signIn(h, authenticator, { ctx: { counter: 2 } });
    for (const ctx of [
      { counter: 50, signature: 'corrupt' as const },
      { counter: 60, origin: 'https://evil.example' },
      { counter: 70, flags: { up: false } },
    ]) {
      await failure((await authenticationAttempt(h, authenticator, { ctx })).finish());
    }
    expect((await h.stores.credentials.findById(up.credential.id))?.counter).toBe(2);
    // And a later honest sign-in above the stored value still works.
    await expect(signIn(h, authenticator, { ctx: { counter: 3 } })).resolves.toBeTruthy();
  });

  it('a forged huge counter with a bad signature does not lock the credential out', async () => {
    const h = makePassgate();
    const authenticator = new SoftwareAuthenticator();
    await signUp(h, authenticator, 'alice');
    await failure(
      (
        await authenticationAttempt(h, authenticator, { ctx: { counter: 0xffffffff, signature: 'corrupt' } })
      ).finish(),
    );
    await expect(signIn(h, authenticator, { ctx: { counter: 1 } })).resolves.toBeTruthy();
  });
});

describe('ceremony binding on sign-in', () => {
  it('consumes the ceremony once', async () => {
    const h = makePassgate();
    const authenticator = new SoftwareAuthenticator();
    await signUp(h, authenticator, 'alice');
    const attempt = await authenticationAttempt(h, authenticator);
    await attempt.finish();
    expect(await failure(attempt.finish())).toMatchObject({ code: 'ceremony_expired' });
  });

  it('burns the ceremony on a failed verify', async () => {
    const h = makePassgate();
    const authenticator = new SoftwareAuthenticator();
    await signUp(h, authenticator, 'alice');
    const start = await h.passgate.startAuthentication();
    const bad = await authenticator.getAssertion(start.options, { origin: ORIGIN, signature: 'corrupt' });
    const good = await authenticator.getAssertion(start.options, { origin: ORIGIN, counter: 10 });
    const finish = (response: unknown) =>
      h.passgate.finishAuthentication({ ceremonyId: start.ceremonyId, response: response as never });
    expect(await failure(finish(bad))).toMatchObject({ code: 'verification_failed' });
    expect(await failure(finish(good))).toMatchObject({ code: 'ceremony_expired' });
  });

  it('expires after the TTL', async () => {
    const h = makePassgate({ policy: { challengeTtlSeconds: 30 } });
    const authenticator = new SoftwareAuthenticator();
    await signUp(h, authenticator, 'alice');
    const attempt = await authenticationAttempt(h, authenticator);
    h.clock.now += 30_000;
    expect(await failure(attempt.finish())).toMatchObject({ code: 'ceremony_expired' });
  });

  it('answers ceremony_expired for a missing ceremony id', async () => {
    const h = makePassgate();
    const authenticator = new SoftwareAuthenticator();
    await signUp(h, authenticator, 'alice');
    const attempt = await authenticationAttempt(h, authenticator);
    expect(
      await failure(h.passgate.finishAuthentication({ ceremonyId: undefined, response: attempt.response })),
    ).toMatchObject({ code: 'ceremony_expired' });
  });

  it('of 20 concurrent verifies of one ceremony exactly one succeeds', async () => {
    const h = makePassgate();
    const authenticator = new SoftwareAuthenticator();
    const up = await signUp(h, authenticator, 'alice');
    const attempt = await authenticationAttempt(h, authenticator);
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => attempt.finish()));
    const ok = results.filter((r) => r.status === 'fulfilled');
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(1);
    expect(failed).toHaveLength(19);
    for (const f of failed) expect(f.reason).toMatchObject({ code: 'ceremony_expired' });
    expect((await h.stores.credentials.findById(up.credential.id))?.counter).toBe(1);
  });

  it('a sign-in whose counter update loses the race to a lower counter is checked again on the fresh counter, and lands', async () => {
    const h = makePassgate();
    const authenticator = new SoftwareAuthenticator();
    const up = await signUp(h, authenticator, 'alice');
    const lower = await authenticationAttempt(h, authenticator, { ctx: { counter: 5 } });
    const higher = await authenticationAttempt(h, authenticator, { ctx: { counter: 6 } });
    const [first, second] = await Promise.allSettled([lower.finish(), higher.finish()]);
    // Whichever order the updates land in, the higher counter stands on the fresh value.
    expect(second).toMatchObject({ status: 'fulfilled', value: { credential: { id: up.credential.id } } });
    if (first?.status === 'rejected') expect(first.reason).toMatchObject({ code: 'credential_cloned' });
    expect((await h.stores.credentials.findById(up.credential.id))?.counter).toBe(6);
  });

  it('of concurrent sign-ins with one counter value across two ceremonies, at most one succeeds', async () => {
    const h = makePassgate();
    const authenticator = new SoftwareAuthenticator();
    await signUp(h, authenticator, 'alice');
    const attempts = await Promise.all(
      Array.from({ length: 5 }, () => authenticationAttempt(h, authenticator, { ctx: { counter: 4 } })),
    );
    const results = await Promise.allSettled(attempts.map((a) => a.finish()));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results)
      if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'credential_cloned' });
  });
});

/**
 * `beginSignIn` writes the session while the counter update is in flight; the sign-in stands only
 * if that update does. These drive it as an integration does, recording what it kept and undid.
 */
describe('a session kept during the counter update (beginSignIn)', () => {
  function keeper() {
    const log = { began: 0, undone: 0 };
    const beginSignIn = (_session: PasskeySession): PendingSignIn => {
      log.began += 1;
      return {
        kept: Promise.resolve(),
        async undo() {
          log.undone += 1;
        },
      };
    };
    return { log, beginSignIn };
  }

  it('a counter that already fails the clone rule keeps no session at all', async () => {
    const h = makePassgate();
    const authenticator = new SoftwareAuthenticator();
    await signUp(h, authenticator, 'alice');
    await signIn(h, authenticator, { ctx: { counter: 5 } });
    const attempt = await authenticationAttempt(h, authenticator, { ctx: { counter: 5 } });
    const { log, beginSignIn } = keeper();
    const refused = h.passgate.finishAuthentication({
      ceremonyId: attempt.start.ceremonyId,
      response: attempt.response,
      beginSignIn,
    });
    expect(await failure(refused)).toMatchObject({ code: 'credential_cloned' });
    expect(log).toEqual({ began: 0, undone: 0 });
  });

  it('a sign-in the counter update refuses (a clone racing it) has its kept session undone', async () => {
    const h = makePassgate();
    const authenticator = new SoftwareAuthenticator();
    await signUp(h, authenticator, 'alice');
    // Five assertions with one counter value: each passes the clone rule on the counter it read,
    // and all but one lose the compare-and-set to the first and are refused there.
    const attempts = await Promise.all(
      Array.from({ length: 5 }, () => authenticationAttempt(h, authenticator, { ctx: { counter: 4 } })),
    );
    const keepers = attempts.map(() => keeper());
    const results = await Promise.allSettled(
      attempts.map((a, i) =>
        h.passgate.finishAuthentication({
          ceremonyId: a.start.ceremonyId,
          response: a.response,
          beginSignIn: keepers[i]?.beginSignIn,
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    let refusedAfterKeeping = 0;
    results.forEach((r, i) => {
      const { log } = keepers[i] as ReturnType<typeof keeper>;
      if (r.status === 'fulfilled') {
        expect(r.value.kept).toBe(true);
        expect(log).toEqual({ began: 1, undone: 0 });
      } else {
        expect(r.reason).toMatchObject({ code: 'credential_cloned' });
        expect(log.undone).toBe(log.began);
        refusedAfterKeeping += log.began;
      }
    });
    // Not vacuous: the refusals came from the update, after their sessions were kept.
    expect(refusedAfterKeeping).toBeGreaterThan(0);
  });
});
