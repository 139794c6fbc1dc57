import { createMemoryStores, type PassgateStores } from '@passgate/core';
import { SoftwareAuthenticator } from '@passgate/testing';
import { describe, expect, it, vi } from 'vitest';
import {
  authenticationAttempt,
  failure,
  makePassgate,
  signIn,
  signUp,
  withoutSignInStore,
} from './helpers.js';

/** Spies on every read a sign-in verify may start with. */
function spyOnReads(stores: PassgateStores) {
  return {
    combined: stores.signIn ? vi.spyOn(stores.signIn, 'consumeForSignIn') : null,
    consume: vi.spyOn(stores.challenges, 'consume'),
    findById: vi.spyOn(stores.credentials, 'findById'),
    findByUserHandle: vi.spyOn(stores.accounts, 'findByUserHandle'),
  };
}

async function signedUp(stores: PassgateStores) {
  const h = makePassgate({ stores });
  const authenticator = new SoftwareAuthenticator();
  await signUp(h, authenticator, 'alice');
  return { h, authenticator };
}

describe('the sign-in verify reads the ceremony, credential and account', () => {
  it('in one call when the stores offer signIn (memory stores do)', async () => {
    const stores = createMemoryStores();
    const { h, authenticator } = await signedUp(stores);
    const reads = spyOnReads(stores);
    const result = await signIn(h, authenticator);
    expect(result.user.name).toBe('alice');
    expect(reads.combined).toHaveBeenCalledTimes(1);
    expect(reads.consume).not.toHaveBeenCalled();
    expect(reads.findById).not.toHaveBeenCalled();
    expect(reads.findByUserHandle).not.toHaveBeenCalled();
  });

  it('with the separate calls when the stores have no signIn (third-party adapters)', async () => {
    const stores = withoutSignInStore(createMemoryStores());
    const { h, authenticator } = await signedUp(stores);
    const reads = spyOnReads(stores);
    const result = await signIn(h, authenticator);
    expect(result.user.name).toBe('alice');
    expect(reads.consume).toHaveBeenCalledTimes(1);
    expect(reads.findById).toHaveBeenCalledTimes(1);
    expect(reads.findByUserHandle).toHaveBeenCalledTimes(1);
  });

  it("with the separate calls when one of the adapter's stores was replaced (never the wrong store)", async () => {
    const base = createMemoryStores();
    // The application's own credential repository in front of the adapter's: signIn.readsFrom no
    // longer matches, so signIn (which reads the adapter's own) must not be used.
    const credentials = { ...base.credentials };
    const stores: PassgateStores = { ...base, credentials };
    const { h, authenticator } = await signedUp(stores);
    const reads = spyOnReads(stores);
    await signIn(h, authenticator);
    expect(reads.combined).not.toHaveBeenCalled();
    expect(reads.findById).toHaveBeenCalledTimes(1);
    expect(reads.consume).toHaveBeenCalledTimes(1);
  });

  it('with the separate calls when signIn does not say which stores it reads', async () => {
    const base = createMemoryStores();
    const combined = base.signIn!;
    const stores: PassgateStores = {
      ...base,
      signIn: {
        consumeForSignIn: (c, id) => combined.consumeForSignIn(c, id),
      } as PassgateStores['signIn'] & {},
    };
    const { h, authenticator } = await signedUp(stores);
    const reads = spyOnReads(stores);
    await signIn(h, authenticator);
    expect(reads.combined).not.toHaveBeenCalled();
    expect(reads.consume).toHaveBeenCalledTimes(1);
  });

  it('in one call that consumes the ceremony whatever happens next: a replay is ceremony_expired', async () => {
    const stores = createMemoryStores();
    const { h, authenticator } = await signedUp(stores);
    const attempt = await authenticationAttempt(h, authenticator);
    await attempt.finish();
    expect((await failure(attempt.finish())).code).toBe('ceremony_expired');
  });

  it('never with a malformed ceremony id: ceremony_expired, and the challenge store never sees it', async () => {
    const stores = createMemoryStores();
    const { h, authenticator } = await signedUp(stores);
    const attempt = await authenticationAttempt(h, authenticator);
    const reads = spyOnReads(stores);
    expect((await failure(attempt.finish('not-a-ceremony-id'))).code).toBe('ceremony_expired');
    expect(reads.combined).not.toHaveBeenCalled();
    expect(reads.consume).not.toHaveBeenCalled();
  });
});

describe('username-first login/options reads the account and its credentials', () => {
  const spyOnUsernameReads = (stores: PassgateStores) => ({
    combined: stores.signIn ? vi.spyOn(stores.signIn, 'findForSignIn') : null,
    findByUsername: vi.spyOn(stores.accounts, 'findByUsername'),
    listByUserHandle: vi.spyOn(stores.credentials, 'listByUserHandle'),
  });

  it('in one call when the stores offer signIn, for known and unknown usernames alike', async () => {
    const stores = createMemoryStores();
    const { h } = await signedUp(stores);
    const reads = spyOnUsernameReads(stores);
    const known = await h.passgate.startAuthentication({ username: 'alice' });
    const unknown = await h.passgate.startAuthentication({ username: 'nobody' });
    expect(known.options.allowCredentials).toHaveLength(1);
    expect(unknown.options.allowCredentials?.length).toBeGreaterThan(0);
    expect(reads.combined).toHaveBeenCalledTimes(2);
    expect(reads.findByUsername).not.toHaveBeenCalled();
    expect(reads.listByUserHandle).not.toHaveBeenCalled();
  });

  it('with the two separate calls when the stores have no signIn', async () => {
    const stores = withoutSignInStore(createMemoryStores());
    const { h } = await signedUp(stores);
    const reads = spyOnUsernameReads(stores);
    const known = await h.passgate.startAuthentication({ username: 'alice' });
    await h.passgate.startAuthentication({ username: 'nobody' });
    expect(known.options.allowCredentials).toHaveLength(1);
    expect(reads.findByUsername).toHaveBeenCalledTimes(2);
    expect(reads.listByUserHandle).toHaveBeenCalledTimes(2);
  });

  it('gives the same options (listed passkeys, decoys) on both paths', async () => {
    const one = createMemoryStores();
    const { h: a } = await signedUp(one);
    const unknownA = await a.passgate.startAuthentication({ username: 'nobody' });
    const other = withoutSignInStore(createMemoryStores());
    const { h: b } = await signedUp(other);
    const unknownB = await b.passgate.startAuthentication({ username: 'nobody' });
    // Decoys depend only on the secret and the username.
    expect(unknownA.options.allowCredentials).toEqual(unknownB.options.allowCredentials);
  });
});
