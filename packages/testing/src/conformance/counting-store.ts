import { randomBytes } from 'node:crypto';
import {
  type CountingStore,
  createPassgate,
  type PassgateStores,
  type PublicKeyCredentialRequestOptionsJSON,
  silentLogger,
} from '@passgate/core';
import { type ContractResponse, createContractHandler } from '@passgate/core/http';
import { SoftwareAuthenticator } from '../authenticator/index.js';
import { concurrently } from './assertions.js';
import type { SuiteContext } from './context.js';
import { seedAccount } from './credential-repository.js';
import { expect } from './expect.js';
import { randomCeremonyId, randomUsername } from './fixtures.js';
import { skipWithReason } from './runner.js';
import { ATTEMPTS, formatMs, now, tooSlowToCheck } from './timing.js';

const ORIGIN = 'https://counting.example.test';
const RP_ID = 'counting.example.test';
const COOKIE = 'passgate_ceremony';
/** A TTL no test waits out. */
const LONG_TTL_MS = 10 * 60_000;
/** The most points a limiter may have for these tests (each test sends that many requests). */
const MAX_POINTS = 1000;

/**
 * A client address of its own for each test, so each starts with a fresh bucket. IPv4, so that the
 * bucket's key is the address itself (the core keys IPv6 clients by their /64).
 */
function randomIp(): string {
  const [a, b, c] = randomBytes(3);
  return `10.${a}.${b}.${c}`;
}

/**
 * The real HTTP contract (`@passgate/core/http`'s handler, in process) on the stores under test, with
 * the counting store's own limiter as the per-IP bucket, as an application wires it.
 */
function contract(stores: PassgateStores, counting: CountingStore) {
  const passgate = createPassgate({
    rp: { name: 'counting conformance', id: RP_ID, origins: [ORIGIN] },
    stores,
    secret: 'counting-store-conformance-secret-0123456789',
    logger: silentLogger,
    rateLimits: { perIp: counting.limiter, accountFailures: false },
  });
  const handler = createContractHandler(passgate);
  const post = async (
    path: string,
    body: unknown,
    options: { ip: string; ceremony?: string | undefined },
  ): Promise<ContractResponse> => {
    const response = await handler.handle({
      method: 'POST',
      path,
      headers: {
        origin: ORIGIN,
        'content-type': 'application/json',
        ...(options.ceremony !== undefined ? { cookie: `${COOKIE}=${options.ceremony}` } : {}),
      },
      protocol: 'https',
      ip: options.ip,
      body: { kind: 'parsed', value: body },
      session: null,
    });
    if (response === null) throw new Error(`no route for POST ${path}`);
    return response;
  };
  return { passgate, post };
}

/** The ceremony id a response sets in its cookie, `undefined` when it sets none, `''` when it clears it. */
function ceremonyCookie(response: ContractResponse): string | undefined {
  const cookie = response.cookies.find((c) => c.startsWith(`${COOKIE}=`));
  return cookie?.slice(COOKIE.length + 1).split(';')[0];
}

/**
 * Contract tests for the optional `CountingStore` (see its doc comment in `@passgate/core`), driven
 * through the HTTP contract where the contract shows the promise (what is answered, what a later
 * request finds), and on the store itself where it cannot (that a refused put stored nothing).
 */
export function describeCountingStoreContract(ctx: SuiteContext): void {
  const { describe, it } = ctx.runner;
  const reason = 'no `counting` option given: the stores offer no CountingStore (the core calls the limiter)';
  describe('CountingStore (optional: the per-IP count in the ceremony’s store operation)', () => {
    const names = [
      'keeps the buckets of its limiter and writes and reads through the very stores it is given with',
      'login/options: after `points` requests the bucket refuses with 429 and Retry-After, and sets no ceremony',
      'a refused putCounted stores nothing; an accepted one is a put with its rules',
      'login/verify refused by the bucket consumes nothing: the ceremony still signs in from another address',
      'a refused consumeForSignInCounted consumes and reads nothing',
      "counts as the limiter's consume does, on the same key: one bucket for both, refused requests counted too",
      'of concurrent login/options from one address, exactly `points` are served',
    ] as const;
    if (!ctx.counting) {
      for (const name of names) skipWithReason(ctx.runner, name, reason);
      it('the stores offer no counting, or the suite is told they do (its `counting` option)', () => {
        expect(
          ctx.stores().counting,
          'stores.counting is there: pass `counting: true` to the suite to run its tests',
        ).toBe(undefined);
      });
      return;
    }
    const test = (name: (typeof names)[number], body: (store: CountingStore) => Promise<void> | void) =>
      it(name, async () => {
        const store = ctx.stores().counting;
        expect(store !== undefined, 'stores.counting (the suite was given `counting: true`)').toBe(true);
        const points = (store as CountingStore).limiter.points;
        expect(points > 0 && points <= MAX_POINTS, `the limiter's points (1 to ${MAX_POINTS})`).toBe(true);
        await body(store as CountingStore);
      });

    test(names[0], (store) => {
      const stores = ctx.stores();
      expect(typeof store.limiter.consume, 'limiter.consume').toBe('function');
      const from = store.readsFrom;
      expect(from?.challenges === stores.challenges, 'readsFrom.challenges is stores.challenges').toBe(true);
      expect(from?.credentials === stores.credentials, 'readsFrom.credentials is stores.credentials').toBe(
        true,
      );
      expect(from?.accounts === stores.accounts, 'readsFrom.accounts is stores.accounts').toBe(true);
    });

    test(names[1], async (store) => {
      const { post } = contract(ctx.stores(), store);
      const ip = randomIp();
      const { points, duration } = store.limiter;
      for (let i = 0; i < points; i++) {
        const served = await post('/login/options', {}, { ip });
        expect(served.status, `request ${i + 1} of ${points}`).toBe(200);
        expect(ceremonyCookie(served), 'a ceremony cookie').toBeTruthy();
      }
      const refused = await post('/login/options', {}, { ip });
      expect(refused.status, 'request over the limit').toBe(429);
      expect((refused.body as { error?: { code?: string } }).error?.code).toBe('rate_limited');
      const retryAfter = Number(refused.headers['retry-after']);
      expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= duration, 'Retry-After').toBe(
        true,
      );
      expect(ceremonyCookie(refused), 'no ceremony cookie on a refusal').toBe(undefined);
      // Another address has its own bucket.
      expect((await post('/login/options', {}, { ip: randomIp() })).status).toBe(200);
    });

    test(names[2], async (store) => {
      const { points, duration } = store.limiter;
      const key = randomIp();
      const first = randomCeremonyId();
      expect(await store.putCounted(key, first, 'first', LONG_TTL_MS)).toEqual({
        limited: false,
        value: true,
      });
      // A pending id keeps its value, as `put`.
      expect(await store.putCounted(key, first, 'other', LONG_TTL_MS)).toEqual({
        limited: false,
        value: false,
      });
      for (let i = 2; i < points; i++) await store.limiter.consume(key).catch(() => {});
      const id = randomCeremonyId();
      const refused = await store.putCounted(key, id, 'refused', LONG_TTL_MS);
      expect(refused.limited, 'refused once the bucket is empty').toBe(true);
      if (refused.limited) {
        expect(refused.msBeforeNext > 0 && refused.msBeforeNext <= duration * 1000, 'msBeforeNext').toBe(
          true,
        );
      }
      expect(await ctx.stores().challenges.consume(id), 'nothing stored for a refused put').toBeNull();
      expect(await ctx.stores().challenges.consume(first), 'the first value, kept').toBe('first');
    });

    test(names[3], async (store) => {
      const { post } = contract(ctx.stores(), store);
      const authenticator = new SoftwareAuthenticator();
      // Sign up from an address of its own.
      const signUpIp = randomIp();
      const registration = await post('/register/options', { username: randomUsername() }, { ip: signUpIp });
      expect(registration.status, 'register/options').toBe(200);
      const created = await authenticator.createCredential(registration.body as never, { origin: ORIGIN });
      const registered = await post('/register/verify', created, {
        ip: signUpIp,
        ceremony: ceremonyCookie(registration),
      });
      expect(registered.status, `register/verify ${JSON.stringify(registered.body)}`).toBe(200);

      const ip = randomIp();
      const options = await post('/login/options', {}, { ip });
      expect(options.status, 'login/options').toBe(200);
      const ceremony = ceremonyCookie(options);
      const assertion = await authenticator.getAssertion(
        options.body as PublicKeyCredentialRequestOptionsJSON,
        {
          origin: ORIGIN,
        },
      );
      // Empty the bucket of this address: `points` requests in all with the options above.
      for (let i = 1; i < store.limiter.points; i++) await post('/login/options', {}, { ip });
      const refused = await post('/login/verify', assertion, { ip, ceremony });
      expect(refused.status, 'verify over the limit').toBe(429);
      expect(ceremonyCookie(refused), 'the ceremony cookie is neither cleared nor replaced').toBe(undefined);
      // The same ceremony and assertion from an address with points left: not consumed, it signs in.
      const verified = await post('/login/verify', assertion, { ip: randomIp(), ceremony });
      expect(verified.status, `verify from another address ${JSON.stringify(verified.body)}`).toBe(200);
      expect((verified.body as { verified?: unknown }).verified).toBe(true);
    });

    test(names[4], async (store) => {
      const { account, credentials } = await seedAccount(ctx.stores());
      const key = randomIp();
      const id = randomCeremonyId();
      expect(await ctx.stores().challenges.put(id, 'pending', LONG_TTL_MS)).toBe(true);
      const read = await store.consumeForSignInCounted(key, randomCeremonyId(), credentials[0]!.id);
      expect(read.limited, 'served while the bucket has points').toBe(false);
      if (!read.limited) {
        expect(read.value.credential?.id).toBe(credentials[0]!.id);
        expect(read.value.account?.userHandle).toBe(account.userHandle);
      }
      for (let i = 1; i < store.limiter.points; i++) await store.limiter.consume(key).catch(() => {});
      const refused = await store.consumeForSignInCounted(key, id, credentials[0]!.id);
      expect(refused, 'refused once the bucket is empty, with nothing read').toEqual({
        limited: true,
        msBeforeNext: (refused as { msBeforeNext?: unknown }).msBeforeNext,
      });
      expect(await ctx.stores().challenges.consume(id), 'the ceremony is still pending').toBe('pending');
    });

    test(names[5], async (store) => {
      const { post } = contract(ctx.stores(), store);
      const { limiter } = store;
      const windowMs = limiter.duration * 1000;
      // The first request opens the window: `duration` seconds from now, less at most 5 s. The store
      // opened it no earlier than the request was sent and read it no later than `get` answered: a
      // window shorter only by what that took on a slow machine proves nothing, and is tried again
      // with another address (see ./timing.ts).
      let ip = randomIp();
      const tookMs: number[] = [];
      for (;;) {
        const sentAt = now();
        expect((await post('/login/options', {}, { ip })).status).toBe(200);
        const opened = await limiter.get(ip);
        const took = now() - sentAt;
        expect(opened?.consumedPoints, 'counted on the limiter’s key').toBe(1);
        const ms = opened?.msBeforeNext ?? 0;
        expect(ms <= windowMs, `window ${ms} ms`).toBe(true);
        if (ms > windowMs - 5000) break;
        expect(ms > windowMs - 5000 - took, `window ${ms} ms (${formatMs(took)} after the request)`).toBe(
          true,
        );
        tookMs.push(took);
        if (tookMs.length === ATTEMPTS)
          throw tooSlowToCheck(
            'the first request opens a window of `duration` seconds',
            `the request and the read of its window took ${tookMs.map(formatMs).join(', ')}`,
          );
        ip = randomIp();
      }
      // The limiter's own consume and the contract's requests take from one bucket.
      for (let i = 1; i < limiter.points - 1; i++) await limiter.consume(ip);
      expect((await post('/login/options', {}, { ip })).status, 'the last point').toBe(200);
      expect((await post('/login/options', {}, { ip })).status, 'over the limit').toBe(429);
      expect((await post('/login/verify', {}, { ip })).status, 'verify over the limit').toBe(429);
      // Refused requests are counted too, as the limiter counts them.
      expect((await limiter.get(ip))?.consumedPoints).toBe(limiter.points + 2);
      const rejected = await limiter.consume(ip).then(
        () => null,
        (res: unknown) => res,
      );
      expect(
        (rejected as { consumedPoints?: number } | null)?.consumedPoints,
        'the limiter refuses too',
      ).toBe(limiter.points + 3);
    });

    test(names[6], async (store) => {
      const { post } = contract(ctx.stores(), store);
      const ip = randomIp();
      const extra = Math.max(5, ctx.concurrency - store.limiter.points);
      const statuses = (
        await concurrently(store.limiter.points + extra, () => post('/login/options', {}, { ip }))
      ).map((r) => (r.status === 'fulfilled' ? r.value.status : String(r.reason)));
      expect(statuses.filter((s) => s === 200).length, 'served').toBe(store.limiter.points);
      expect(statuses.filter((s) => s === 429).length, 'refused').toBe(extra);
    });
  });
}
