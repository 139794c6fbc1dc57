import {
  createMemoryStores,
  Passgate,
  type PassgateLogger,
  type PassgateOptions,
  type PassgateStores,
  storeUnavailable,
} from '@passgate/core';
import { SoftwareAuthenticator } from '@passgate/testing';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { describe, expect, it, vi } from 'vitest';
import {
  authenticationAttempt,
  eventsNamed,
  failure,
  forgedAttempt,
  type Harness,
  makePassgate,
  ORIGIN,
  RP_ID,
  registrationAttempt,
  SECRET,
  signIn,
  signUp,
} from './helpers.js';

describe('per-account failure bucket', () => {
  const corrupt = { ctx: { signature: 'corrupt' as const } };

  it('answers the failures after the Nth with rate_limited and retryAfterSeconds', async () => {
    const h = makePassgate({ rateLimits: { accountFailures: { points: 3, durationSeconds: 900 } } });
    const authenticator = new SoftwareAuthenticator();
    await signUp(h, authenticator, 'alice');
    for (let i = 0; i < 3; i++) {
      const attempt = await authenticationAttempt(h, authenticator, corrupt);
      expect(await failure(attempt.finish())).toMatchObject({ code: 'verification_failed' });
    }
    const error = await failure((await authenticationAttempt(h, authenticator, corrupt)).finish());
    expect(error).toMatchObject({ code: 'rate_limited', status: 429 });
    expect(error.retryAfterSeconds).toBeGreaterThan(0);
    expect(error.retryAfterSeconds).toBeLessThanOrEqual(900);
  });

  it('never refuses a validly signed assertion: bad assertions from others cannot lock the owner out', async () => {
    const h = makePassgate({ rateLimits: { accountFailures: { points: 2, durationSeconds: 900 } } });
    const authenticator = new SoftwareAuthenticator();
    await signUp(h, authenticator, 'alice');
    for (let i = 0; i < 5; i++) {
      for (const username of [undefined, 'alice']) {
        await failure((await authenticationAttempt(h, authenticator, { ...corrupt, username })).finish());
      }
    }
    await expect(signIn(h, authenticator)).resolves.toMatchObject({ user: { name: 'alice' } });
    await expect(signIn(h, authenticator, { username: 'alice' })).resolves.toMatchObject({
      user: { name: 'alice' },
    });
    // A success does not reset it: the next failure is still refused.
    expect(await failure((await authenticationAttempt(h, authenticator, corrupt)).finish())).toMatchObject({
      code: 'rate_limited',
    });
  });

  it('is consumed atomically: of 30 parallel bad verifies, exactly the limit get their own code', async () => {
    const limits = { rateLimits: { accountFailures: { points: 10, durationSeconds: 900 } } };
    const flows: [
      string,
      (h: Harness, a: SoftwareAuthenticator) => Promise<{ finish(): Promise<unknown> }>,
    ][] = [
      ['discoverable', (h, a) => authenticationAttempt(h, a, corrupt)],
      ['username-first, known', (h) => forgedAttempt(h, 'alice')],
      ['username-first, unknown', (h) => forgedAttempt(h, 'nobody-here')],
    ];
    for (const [flow, attempt] of flows) {
      const h = makePassgate(limits);
      const authenticator = new SoftwareAuthenticator();
      await signUp(h, authenticator, 'alice');
      const attempts = await Promise.all(Array.from({ length: 30 }, () => attempt(h, authenticator)));
      const codes = await Promise.all(attempts.map(async (a) => (await failure(a.finish())).code));
      const count = (code: string) => codes.filter((c) => c === code).length;
      expect({ flow, failed: count('verification_failed'), limited: count('rate_limited') }).toEqual({
        flow,
        failed: 10,
        limited: 20,
      });
      await expect(signIn(h, authenticator)).resolves.toMatchObject({ user: { name: 'alice' } });
    }
  });

  it('username-first: an unknown username behaves exactly like a known one (400 x N, then 429)', async () => {
    const h = makePassgate({ rateLimits: { accountFailures: { points: 2, durationSeconds: 900 } } });
    await signUp(h, new SoftwareAuthenticator(), 'alice');
    const outcomes = async (username: string) => {
      const codes = [];
      for (let i = 0; i < 3; i++) {
        const error = await failure((await forgedAttempt(h, username)).finish());
        codes.push(`${error.status} ${error.code}`);
      }
      return codes;
    };
    const expected = ['400 verification_failed', '400 verification_failed', '429 rate_limited'];
    expect(await outcomes('alice')).toEqual(expected);
    expect(await outcomes('mallory')).toEqual(expected);
  });

  it('counts per account: another account is not affected', async () => {
    const h = makePassgate({ rateLimits: { accountFailures: { points: 2, durationSeconds: 900 } } });
    const alice = new SoftwareAuthenticator();
    const bob = new SoftwareAuthenticator();
    await signUp(h, alice, 'alice');
    await signUp(h, bob, 'bob');
    for (let i = 0; i < 2; i++) await failure((await authenticationAttempt(h, alice, corrupt)).finish());
    expect(await failure((await authenticationAttempt(h, alice, corrupt)).finish())).toMatchObject({
      code: 'rate_limited',
    });
    expect(await failure((await authenticationAttempt(h, bob, corrupt)).finish())).toMatchObject({
      code: 'verification_failed',
    });
  });

  it('counts clone reports as failures', async () => {
    const h = makePassgate({ rateLimits: { accountFailures: { points: 1, durationSeconds: 900 } } });
    const authenticator = new SoftwareAuthenticator();
    await signUp(h, authenticator, 'alice', { ctx: { counter: 5 } });
    expect(
      await failure((await authenticationAttempt(h, authenticator, { ctx: { counter: 5 } })).finish()),
    ).toMatchObject({
      code: 'credential_cloned',
    });
    expect(await failure((await authenticationAttempt(h, authenticator, corrupt)).finish())).toMatchObject({
      code: 'rate_limited',
    });
  });

  it('counts failed add-passkey verifications against the account, answered with their own code', async () => {
    const h = makePassgate({ rateLimits: { accountFailures: { points: 1, durationSeconds: 900 } } });
    const authenticator = new SoftwareAuthenticator();
    const alice = await signUp(h, authenticator, 'alice');
    for (let i = 0; i < 2; i++) {
      const attempt = await registrationAttempt(h, new SoftwareAuthenticator(), {
        session: alice.session,
        ctx: { origin: 'https://evil.example' },
      });
      expect(await failure(attempt.finish())).toMatchObject({ code: 'verification_failed' });
    }
    expect(await failure((await authenticationAttempt(h, authenticator, corrupt)).finish())).toMatchObject({
      code: 'rate_limited',
    });
    await expect(signIn(h, authenticator)).resolves.toBeTruthy();
  });

  it('does nothing when turned off', async () => {
    const h = makePassgate({ rateLimits: { accountFailures: false } });
    const authenticator = new SoftwareAuthenticator();
    await signUp(h, authenticator, 'alice');
    for (let i = 0; i < 12; i++)
      expect(await failure((await authenticationAttempt(h, authenticator, corrupt)).finish())).toMatchObject({
        code: 'verification_failed',
      });
  });

  it('uses a given rate-limiter-flexible limiter, keyed by the user handle', async () => {
    const limiter = new RateLimiterMemory({ points: 1, duration: 60, keyPrefix: 'custom' });
    const h = makePassgate({ rateLimits: { accountFailures: limiter } });
    const authenticator = new SoftwareAuthenticator();
    const alice = await signUp(h, authenticator, 'alice');
    await failure((await authenticationAttempt(h, authenticator, corrupt)).finish());
    expect((await limiter.get(alice.session.userHandle))?.consumedPoints).toBe(1);
    expect(await failure((await authenticationAttempt(h, authenticator, corrupt)).finish())).toMatchObject({
      code: 'rate_limited',
    });
  });
});

describe('per-IP bucket', () => {
  it('refuses the request after the bucket is empty, per IP', async () => {
    const h = makePassgate({ rateLimits: { perIp: { points: 2, durationSeconds: 60 } } });
    await h.passgate.consumeRequestLimit('203.0.113.7');
    await h.passgate.consumeRequestLimit('203.0.113.7');
    const error = await failure(h.passgate.consumeRequestLimit('203.0.113.7'));
    expect(error).toMatchObject({ code: 'rate_limited', status: 429 });
    expect(error.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(error.retryAfterSeconds).toBeLessThanOrEqual(60);
    await expect(h.passgate.consumeRequestLimit('198.51.100.1')).resolves.toBeUndefined();
  });

  it('defaults to 60 per minute and can be turned off', async () => {
    const h = makePassgate();
    for (let i = 0; i < 60; i++) await h.passgate.consumeRequestLimit('192.0.2.1');
    expect(await failure(h.passgate.consumeRequestLimit('192.0.2.1'))).toMatchObject({
      code: 'rate_limited',
    });
    const off = makePassgate({ rateLimits: { perIp: false } });
    for (let i = 0; i < 100; i++) await off.passgate.consumeRequestLimit('192.0.2.1');
  });

  it('fails closed when the limiter store fails: an outage 503, any other error 500', async () => {
    const broken = new RateLimiterMemory({ points: 5, duration: 60 });
    broken.consume = async () => {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });
    };
    const h = makePassgate({ rateLimits: { perIp: broken } });
    expect(await failure(h.passgate.consumeRequestLimit('192.0.2.1'))).toMatchObject({
      code: 'store_unavailable',
      status: 503,
    });
    const faulty = new RateLimiterMemory({ points: 5, duration: 60 });
    faulty.consume = async () => {
      throw new Error('relation "rate_limits" does not exist');
    };
    const f = makePassgate({ rateLimits: { perIp: faulty } });
    expect(await failure(f.passgate.consumeRequestLimit('192.0.2.1'))).toMatchObject({
      code: 'internal_error',
      status: 500,
    });
  });
});

describe('events', () => {
  it('reports verification failures with code, reason, credential and account', async () => {
    const h = makePassgate();
    const authenticator = new SoftwareAuthenticator();
    const alice = await signUp(h, authenticator, 'alice');
    await failure(
      (await authenticationAttempt(h, authenticator, { ctx: { signature: 'corrupt' } })).finish(),
    );
    await failure(
      (await authenticationAttempt(h, authenticator, { ctx: { flags: { up: false } } })).finish(),
    );
    expect(eventsNamed(h, 'verification_failed')).toEqual([
      {
        ceremony: 'authentication',
        code: 'verification_failed',
        reason: 'signature_invalid',
        credentialId: alice.credential.id,
        userHandle: alice.session.userHandle,
      },
      expect.objectContaining({ reason: 'user_presence_missing' }),
    ]);
  });

  it('reports expired ceremonies and unknown credentials', async () => {
    const h = makePassgate();
    const authenticator = new SoftwareAuthenticator();
    await signUp(makePassgate(), authenticator, 'ghost');
    const attempt = await authenticationAttempt(h, authenticator);
    await failure(attempt.finish());
    await failure(attempt.finish());
    expect(eventsNamed(h, 'verification_failed').map((e) => e.code)).toEqual([
      'unknown_credential',
      'ceremony_expired',
    ]);
  });

  it('reports signed_in with the updated credential', async () => {
    const h = makePassgate();
    const authenticator = new SoftwareAuthenticator();
    await signUp(h, authenticator, 'alice');
    await signIn(h, authenticator);
    expect(eventsNamed(h, 'signed_in')).toEqual([
      expect.objectContaining({ userVerified: true, credential: expect.objectContaining({ counter: 1 }) }),
    ]);
  });

  it('unsubscribes', async () => {
    const h = makePassgate();
    const seen: string[] = [];
    const off = h.passgate.on('registered', (e) => {
      seen.push(e.account.username);
    });
    await signUp(h, new SoftwareAuthenticator(), 'alice');
    off();
    await signUp(h, new SoftwareAuthenticator(), 'bob');
    expect(seen).toEqual(['alice']);
  });

  it('a throwing or rejecting listener does not break a ceremony, and is logged', async () => {
    const logger: PassgateLogger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    const h = makePassgate({ logger });
    h.passgate.on('registered', () => {
      throw new Error('listener exploded');
    });
    h.passgate.on('signed_in', async () => {
      throw new Error('async listener exploded');
    });
    h.passgate.on('verification_failed', () => {
      throw new Error('failure listener exploded');
    });
    const authenticator = new SoftwareAuthenticator();
    const alice = await signUp(h, authenticator, 'alice');
    expect(alice.signedUp).toBe(true);
    await expect(signIn(h, authenticator)).resolves.toMatchObject({ user: { name: 'alice' } });
    // A failing ceremony still answers its own error, not the listener's.
    expect(
      await failure(
        (await authenticationAttempt(h, authenticator, { ctx: { signature: 'corrupt' } })).finish(),
      ),
    ).toMatchObject({
      code: 'verification_failed',
    });
    await new Promise((resolve) => setTimeout(resolve, 0));
    const messages = vi.mocked(logger.error).mock.calls.map(([, fields]) => fields?.['error']);
    expect(messages).toEqual(
      expect.arrayContaining(['listener exploded', 'async listener exploded', 'failure listener exploded']),
    );
  });
});

describe('store failures fail closed', () => {
  type Broken = { challenges?: string[]; credentials?: string[]; accounts?: string[] };

  /**
   * Memory stores whose named methods throw `fault(method)`: by default a plain Error with a Node.js
   * network code (an unreachable backend, as a custom adapter that does not map it would throw).
   */
  function brokenStores(
    base: PassgateStores,
    broken: Broken,
    fault: (method: string) => Error = (method) =>
      Object.assign(new Error(`connect ECONNREFUSED (${method})`), { code: 'ECONNREFUSED' }),
  ): PassgateStores {
    const wrap = <T extends object>(target: T, methods: string[] = []): T =>
      new Proxy(target, {
        get(obj, prop, receiver) {
          if (typeof prop === 'string' && methods.includes(prop)) {
            return async () => {
              throw fault(prop);
            };
          }
          return Reflect.get(obj, prop, receiver);
        },
      });
    return {
      challenges: wrap(base.challenges, broken.challenges),
      credentials: wrap(base.credentials, broken.credentials),
      accounts: wrap(base.accounts, broken.accounts),
    };
  }

  it('answers store_unavailable when the challenge store cannot store', async () => {
    const h = makePassgate({ stores: brokenStores(createMemoryStores(), { challenges: ['put'] }) });
    expect(await failure(h.passgate.startRegistration({ session: null, username: 'alice' }))).toMatchObject({
      code: 'store_unavailable',
      status: 503,
    });
    expect(await failure(h.passgate.startAuthentication())).toMatchObject({ code: 'store_unavailable' });
  });

  it('answers store_unavailable when the challenge store cannot consume', async () => {
    const base = createMemoryStores();
    const good = makePassgate({ stores: base });
    const bad = makePassgate({ stores: brokenStores(base, { challenges: ['consume'] }) });
    const attempt = await registrationAttempt(good, new SoftwareAuthenticator(), { finishOn: bad });
    expect(await failure(attempt.finish())).toMatchObject({ code: 'store_unavailable' });
    expect(await base.accounts.findByUsername('alice')).toBeNull();
  });

  it('answers store_unavailable when the account store fails at sign-up', async () => {
    const h = makePassgate({ stores: brokenStores(createMemoryStores(), { accounts: ['findByUsername'] }) });
    expect(await failure(h.passgate.startRegistration({ session: null, username: 'alice' }))).toMatchObject({
      code: 'store_unavailable',
    });
    const create = makePassgate({ stores: brokenStores(createMemoryStores(), { accounts: ['create'] }) });
    const attempt = await registrationAttempt(create, new SoftwareAuthenticator());
    expect(await failure(attempt.finish())).toMatchObject({ code: 'store_unavailable' });
  });

  it('answers store_unavailable when the credential store fails at sign-in', async () => {
    const base = createMemoryStores();
    const good = makePassgate({ stores: base });
    const authenticator = new SoftwareAuthenticator();
    const alice = await signUp(good, authenticator, 'alice');
    for (const method of ['findById', 'updateAfterSignIn']) {
      const bad = makePassgate({ stores: brokenStores(base, { credentials: [method] }) });
      const attempt = await authenticationAttempt(good, authenticator, { finishOn: bad });
      expect(await failure(attempt.finish())).toMatchObject({ code: 'store_unavailable' });
    }
    expect((await base.credentials.findById(alice.credential.id))?.counter).toBe(0);
    const bad = makePassgate({ stores: brokenStores(base, { credentials: ['listByUserHandle'] }) });
    expect(await failure(bad.passgate.startAuthentication({ username: 'alice' }))).toMatchObject({
      code: 'store_unavailable',
    });
    expect(await failure(bad.passgate.listCredentials(alice.session))).toMatchObject({
      code: 'store_unavailable',
    });
  });

  it('answers store_unavailable from management calls', async () => {
    const base = createMemoryStores();
    const good = makePassgate({ stores: base });
    const alice = await signUp(good, new SoftwareAuthenticator(), 'alice');
    const bad = makePassgate({
      stores: brokenStores(base, { credentials: ['rename', 'delete'], accounts: [] }),
    });
    expect(
      await failure(bad.passgate.renameCredential(alice.session, alice.credential.id, 'x')),
    ).toMatchObject({
      code: 'store_unavailable',
    });
    expect(await failure(bad.passgate.deleteCredential(alice.session, alice.credential.id))).toMatchObject({
      code: 'store_unavailable',
    });
    const noAccounts = makePassgate({ stores: brokenStores(base, { accounts: ['findByUserId'] }) });
    expect(await failure(noAccounts.passgate.describeSession(alice.session))).toMatchObject({
      code: 'store_unavailable',
    });
  });

  it('answers internal_error (500), logged with the operation, for a store error that is not an outage', async () => {
    const logged: unknown[][] = [];
    const logger: PassgateLogger = {
      debug() {},
      info() {},
      warn() {},
      error: (...args) => void logged.push(args),
    };
    const missingTable = () =>
      Object.assign(new Error('relation "passgate_accounts" does not exist'), { code: '42P01' });
    const h = makePassgate({
      logger,
      stores: brokenStores(createMemoryStores(), { accounts: ['findByUsername'] }, missingTable),
    });
    expect(await failure(h.passgate.startAuthentication({ username: 'alice' }))).toMatchObject({
      code: 'internal_error',
      status: 500,
    });
    expect(logged).toHaveLength(1);
    expect(logged[0]?.[1]).toMatchObject({
      operation: 'accounts.findByUsername',
      error: 'relation "passgate_accounts" does not exist',
    });
    // A Redis WRONGTYPE reply is a deployment fault too; an adapter's store_unavailable stays 503.
    const wrongType = () => new Error('WRONGTYPE Operation against a key holding the wrong kind of value');
    const redisLike = makePassgate({
      stores: brokenStores(createMemoryStores(), { challenges: ['put'] }, wrongType),
    });
    expect(await failure(redisLike.passgate.startAuthentication())).toMatchObject({ code: 'internal_error' });
    const marked = makePassgate({
      stores: brokenStores(createMemoryStores(), { challenges: ['put'] }, () => storeUnavailable()),
    });
    expect(await failure(marked.passgate.startAuthentication())).toMatchObject({
      code: 'store_unavailable',
      status: 503,
    });
  });

  it('passes a PassgateError from a store through unchanged', async () => {
    const h = makePassgate();
    await signUp(h, new SoftwareAuthenticator(), 'alice');
    // The store's own username_taken (a race the options check cannot see) is not turned into a 503.
    const racing = await registrationAttempt(
      makePassgate({ stores: h.stores }),
      new SoftwareAuthenticator(),
      {
        username: 'bob',
      },
    );
    await signUp(h, new SoftwareAuthenticator(), 'bob');
    expect(await failure(racing.finish())).toMatchObject({ code: 'username_taken' });
  });
});

describe('configuration validation', () => {
  const base = (): PassgateOptions => ({
    rp: { name: 'Test', id: RP_ID, origins: [ORIGIN] },
    stores: createMemoryStores(),
    secret: SECRET,
  });
  const build = (change: (o: PassgateOptions) => void) => () => {
    const options = base();
    change(options);
    return new Passgate(options);
  };

  it('accepts a minimal valid configuration', () => {
    expect(build(() => {})).not.toThrow();
    expect(build((o) => (o.secret = new Uint8Array(32)))).not.toThrow();
  });

  it.each([
    ['a secret under 32 bytes', (o: PassgateOptions) => (o.secret = 'x'.repeat(31)), /secret/],
    // An unset environment variable: say that it is missing, not that it is short.
    [
      'no secret',
      (o: PassgateOptions) => (o.secret = undefined as never),
      /secret is required \(none was given/,
    ],
    ['an empty secret', (o: PassgateOptions) => (o.secret = ''), /secret is required \(none was given/],
    ['a 31-byte binary secret', (o: PassgateOptions) => (o.secret = new Uint8Array(31)), /secret/],
    ['empty origins', (o: PassgateOptions) => (o.rp.origins = []), /origins/],
    [
      'an origin with a path',
      (o: PassgateOptions) => (o.rp.origins = ['https://app.example.com/login']),
      /not an origin/,
    ],
    [
      'an origin that is not a URL',
      (o: PassgateOptions) => (o.rp.origins = ['app.example.com']),
      /not an origin/,
    ],
    ['a bad top origin', (o: PassgateOptions) => (o.rp.topOrigins = ['https://x.example/']), /not an origin/],
    ['a bad rp.id', (o: PassgateOptions) => (o.rp.id = 'https://app.example.com'), /rp\.id/],
    ['an empty rp.name', (o: PassgateOptions) => (o.rp.name = ''), /rp\.name/],
    [
      'direct attestation without roots',
      (o: PassgateOptions) => (o.policy = { attestation: { conveyance: 'direct' } }),
      /rootCertificates/,
    ],
    [
      'direct attestation with empty root lists',
      (o: PassgateOptions) =>
        (o.policy = { attestation: { conveyance: 'direct', rootCertificates: { packed: [] } } }),
      /rootCertificates/,
    ],
    [
      'an unknown userVerification',
      (o: PassgateOptions) => (o.policy = { userVerification: 'always' as never }),
      /userVerification/,
    ],
    ['no algorithms', (o: PassgateOptions) => (o.policy = { algorithms: [] }), /algorithms/],
    [
      'a zero challenge TTL',
      (o: PassgateOptions) => (o.policy = { challengeTtlSeconds: 0 }),
      /challengeTtlSeconds/,
    ],
    [
      'a TTL over an hour',
      (o: PassgateOptions) => (o.policy = { challengeTtlSeconds: 3601 }),
      /challengeTtlSeconds/,
    ],
    [
      'a zero reauthentication window',
      (o: PassgateOptions) => (o.reauthenticationWindowSeconds = 0),
      /reauthentication/,
    ],
    [
      'zero max credentials',
      (o: PassgateOptions) => (o.maxCredentialsPerAccount = 0),
      /maxCredentialsPerAccount/,
    ],
    ['missing stores', (o: PassgateOptions) => (o.stores = {} as never), /stores/],
    [
      'a zero-point rate limit',
      (o: PassgateOptions) => (o.rateLimits = { perIp: { points: 0, durationSeconds: 1 } }),
      /points/,
    ],
  ])('rejects %s', (_label, change, message) => {
    expect(build(change)).toThrow(message);
  });
});
