import { randomBytes } from 'node:crypto';
import { SoftwareAuthenticator } from '@passgate/testing';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
// The Redis package's round-trip counter, one copy for both round-trip tests.
import { countingRedis } from '../../../packages/redis/test/helpers.js';
import type { RunningDemo } from '../src/index.js';
import {
  CookieJar,
  call,
  cleanUpSharedStores,
  DATABASE_URL,
  ORIGIN,
  REDIS_URL,
  signUp,
  startStoreDemo,
} from './demo-http.js';

/**
 * Round trips to the store server per full sign-in ceremony (`login/options` then `login/verify`
 * from a browser with no cookies yet, as `pnpm bench` runs it), as the Express demo is wired for
 * Redis and for PostgreSQL: Passgate's stores, its rate limiters (Redis only; PostgreSQL mode keeps
 * them in memory) and the express-session store on the same server, all counted. Issue 14's goal:
 * at most 5, rate limits included. Counted by wrapping the connection the demo opened: every command
 * sent on its own, every pipeline or MULTI, every SQL statement (on the pool or a checked-out
 * client) is one.
 */

const MAX_ROUND_TRIPS = 5;

const tablePrefix = `trips_${randomBytes(4).toString('hex')}_`;
const redisPrefix = `passgate-trips-${randomBytes(4).toString('hex')}:`;

/** What was sent, one entry per round trip (the command or statement's first word). */
const sent: string[] = [];

/** The demo's Redis client, counted: builtin commands, and the script rate-limiter-flexible defines on it. */
const countingDemoRedis = (client: Redis) => countingRedis(client, sent, ['rlflxIncr']);

function countingPool(pool: pg.Pool): pg.Pool {
  const countQuery = <T extends { query: (...args: never[]) => unknown }>(target: T) =>
    new Proxy(target, {
      get(obj, property, receiver) {
        const value = Reflect.get(obj, property, receiver);
        if (property !== 'query' || typeof value !== 'function') {
          return typeof value === 'function' ? value.bind(obj) : value;
        }
        return (...args: unknown[]) => {
          const text = typeof args[0] === 'string' ? args[0] : String((args[0] as { text?: string })?.text);
          sent.push(text.trim().split(/\s+/)[0]!.toUpperCase());
          return value.apply(obj, args);
        };
      },
    });
  const counted = countQuery(pool);
  return new Proxy(counted, {
    get(obj, property, receiver) {
      if (property !== 'connect') return Reflect.get(obj, property, receiver);
      return async (...args: unknown[]) => {
        if (args.length > 0) throw new Error('callback-style connect is not counted here');
        return countQuery(await pool.connect());
      };
    },
  });
}

/** What the demo's per-IP bucket for this test's address holds in Redis (`0` on PostgreSQL: in memory). */
async function perIpCount(demo: RunningDemo): Promise<number> {
  const connection = demo.backend.connection;
  if (connection.kind !== 'redis') return 0;
  return Number((await connection.client.get(`${connection.prefix}rl:ip:127.0.0.1`)) ?? 0);
}

async function fullSignIn(demo: RunningDemo, authenticator: SoftwareAuthenticator) {
  const jar = new CookieJar();
  sent.length = 0;
  const options = await call(demo, jar, 'POST', '/passkeys/login/options', {});
  expect(options.status).toBe(200);
  const optionsTrips = [...sent];
  const assertion = await authenticator.getAssertion(options.body, { origin: ORIGIN });
  sent.length = 0;
  const verified = await call(demo, jar, 'POST', '/passkeys/login/verify', assertion);
  expect(verified.status, JSON.stringify(verified.body)).toBe(200);
  return { options: optionsTrips, verify: [...sent] };
}

function describeStore(store: 'redis' | 'postgres') {
  describe(`PASSGATE_STORE=${store}`, () => {
    let demo: RunningDemo | undefined;
    afterAll(async () => {
      await demo?.close();
    });

    it(`a full sign-in ceremony costs at most ${MAX_ROUND_TRIPS} round trips, session included`, async () => {
      demo = await startStoreDemo(store, 'round-trip-session-secret-0123456789', {
        redisPrefix,
        postgresTablePrefix: tablePrefix,
        wrapRedisClient: countingDemoRedis,
        wrapPostgresPool: countingPool,
      });
      const authenticator = new SoftwareAuthenticator();
      const username = await signUp(demo, new CookieJar(), authenticator, 'trips');

      // The first sign-in loads the scripts (EVALSHA's NOSCRIPT fallback) and warms the pool.
      await fullSignIn(demo, authenticator);
      const bucketBefore = await perIpCount(demo);
      const trips = await fullSignIn(demo, authenticator);
      const bucketAfter = await perIpCount(demo);
      const all = [...trips.options, ...trips.verify];
      const limiter = all.filter((command) => command === 'rlflxIncr');
      console.log(
        `${store}: ${all.length} round trips per sign-in ceremony, ${limiter.length} of them the per-IP limiter ` +
          `on its own (options: ${trips.options.join(', ')}; verify: ${trips.verify.join(', ')})`,
      );
      // Everything: Passgate's stores, the per-IP limiter and the session store.
      expect(all.length).toBeLessThanOrEqual(MAX_ROUND_TRIPS);
      if (store === 'redis') {
        // The per-IP bucket is still in Redis and still counts both requests, one each: counted in
        // the ceremony's own scripts, never by a call of the limiter on its own.
        expect(bucketAfter - bucketBefore).toBe(2);
        expect(limiter).toEqual([]);
      }

      // Username-first options: the same round trips for a known and an unknown username (#12).
      const usernameOptions = async (name: string) => {
        sent.length = 0;
        expect(
          (await call(demo!, new CookieJar(), 'POST', '/passkeys/login/options', { username: name })).status,
        ).toBe(200);
        return [...sent];
      };
      const known = await usernameOptions(username);
      const unknown = await usernameOptions(`nobody-${randomBytes(4).toString('hex')}`);
      console.log(
        `${store}: login/options with a username: ${known.length} round trips (${known.join(', ')})`,
      );
      expect(unknown).toEqual(known);
      // A username-first ceremony (a security key) stays within the bound too: its verify is the same.
      expect(known.length + trips.verify.length).toBeLessThanOrEqual(MAX_ROUND_TRIPS);
    });
  });
}

describeStore('redis');
describeStore('postgres');

afterAll(async () => {
  // Leave nothing behind in the shared services.
  await cleanUpSharedStores({ redis: REDIS_URL, postgres: DATABASE_URL }, redisPrefix, tablePrefix);
});
