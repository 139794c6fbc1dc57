import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { SoftwareAuthenticator } from '@passgate/testing';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { type RunningDemo, SESSION_COOKIE_NAME } from '../src/index.js';
import {
  CookieJar,
  call,
  cleanUpSharedStores,
  DATABASE_URL,
  REDIS_URL,
  signUp,
  startStoreDemo,
} from './demo-http.js';

/**
 * The demos' sessions last 8 hours from the sign-in in the store too (README, "Sessions"): a
 * signed-in request reads the session but never extends it where it is kept, whatever the store.
 * With express-session's default `touch`, each of these checks fails: MemoryStore rewrites the
 * stored expiry, connect-redis resets the key's TTL, connect-pg-simple updates `expire`.
 */

const tablePrefix = `expiry_${randomBytes(4).toString('hex')}_`;
const redisPrefix = `passgate-expiry-${randomBytes(4).toString('hex')}:`;

/** The session id inside express-session's signed cookie (`s:<id>.<signature>`). */
function sessionId(jar: CookieJar): string {
  const value = decodeURIComponent(jar.cookies.get(SESSION_COOKIE_NAME) ?? '');
  expect(value.startsWith('s:')).toBe(true);
  return value.slice(2, value.lastIndexOf('.'));
}

/** When the store will drop the session, as each store keeps it (ms since the epoch). */
async function storedExpiry(demo: RunningDemo, store: string, sid: string): Promise<number> {
  if (store === 'memory') {
    const stored = await new Promise<{ cookie: { expires: string } } | null | undefined>((resolve, reject) =>
      demo.backend.sessionStore.get(sid, (error, value) =>
        error ? reject(error) : resolve(value as { cookie: { expires: string } }),
      ),
    );
    if (!stored) throw new Error('no stored session');
    return new Date(stored.cookie.expires).getTime();
  }
  if (store === 'redis') {
    const redis = new Redis(REDIS_URL);
    try {
      // Redis's clock and the key's TTL read in one transaction: the expiry as Redis keeps it, not
      // shifted by however long this process took to see the answer.
      const [[, time], [, ttl]] = (await redis.multi().time().pttl(`${redisPrefix}sess:${sid}`).exec()) as [
        [null, [string, string]],
        [null, number],
      ];
      expect(ttl).toBeGreaterThan(0);
      return Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000) + ttl;
    } finally {
      redis.disconnect();
    }
  }
  const pool = new pg.Pool({ connectionString: DATABASE_URL });
  try {
    const { rows } = await pool.query(`SELECT expire FROM "${tablePrefix}demo_sessions" WHERE sid = $1`, [
      sid,
    ]);
    return new Date(rows[0].expire).getTime();
  } finally {
    await pool.end();
  }
}

describe.each(['memory', 'redis', 'postgres'] as const)('PASSGATE_STORE=%s: session lifetime', (store) => {
  let demo: RunningDemo | undefined;
  afterAll(async () => {
    await demo?.close();
    if (store !== 'memory')
      await cleanUpSharedStores({ redis: REDIS_URL, postgres: DATABASE_URL }, redisPrefix, tablePrefix);
  });

  it('signed-in requests do not extend the stored session: it ends 8 hours after the sign-in', async () => {
    demo = await startStoreDemo(store, 'session-expiry-secret-0123456789abcdef', {
      redisPrefix,
      postgresTablePrefix: tablePrefix,
    });
    const jar = new CookieJar();
    // The sign-in happens somewhere inside signUp(), which a loaded machine can make take seconds.
    const signUpStarted = Date.now();
    await signUp(demo, jar, new SoftwareAuthenticator(), 'expiry');
    const signUpEnded = Date.now();
    const sid = sessionId(jar);
    const before = await storedExpiry(demo, store, sid);
    const eightHours = 8 * 60 * 60 * 1000;
    // PostgreSQL keeps whole seconds at best here and Redis's TTL counts down: allow a little slack.
    expect(before).toBeGreaterThan(signUpStarted + eightHours - 2_000);
    expect(before).toBeLessThan(signUpEnded + eightHours + 2_000);

    // Long enough that a touch would move the expiry by more than the stores' resolution.
    await sleep(1_100);
    for (const path of ['/passkeys/session', '/api/me', '/passkeys/credentials']) {
      expect((await call(demo, jar, 'GET', path)).status).toBe(200);
    }
    expect(sessionId(jar)).toBe(sid);
    const after = await storedExpiry(demo, store, sid);
    expect(after).toBeLessThanOrEqual(before + 50);
  });
});

describe('PASSGATE_STORE=postgres: the session table', () => {
  const prefix = `unlogged_${randomBytes(4).toString('hex')}_`;
  const pool = new pg.Pool({ connectionString: DATABASE_URL });
  let demo: RunningDemo | undefined;
  afterAll(async () => {
    await demo?.close();
    // Nothing went to Redis: its prefix is one no key has.
    await cleanUpSharedStores({ redis: REDIS_URL, postgres: DATABASE_URL }, `unused-${prefix}:`, prefix);
    await pool.end();
  });

  it('is unlogged (no WAL flush per sign-in), also when an older demo made it logged', async () => {
    // A session table as an older demo made it: logged, with a session in it.
    await pool.query(
      `CREATE TABLE "${prefix}demo_sessions" (sid varchar NOT NULL PRIMARY KEY, sess json NOT NULL,
         expire timestamp(6) NOT NULL)`,
    );
    await pool.query(`INSERT INTO "${prefix}demo_sessions" VALUES ('kept', '{}', now() + interval '1 hour')`);
    demo = await startStoreDemo('postgres', 'session-unlogged-secret-0123456789abcdef', {
      postgresTablePrefix: prefix,
    });
    const { rows } = await pool.query<{ relpersistence: string }>(
      'SELECT relpersistence FROM pg_class WHERE oid = to_regclass($1)',
      [`"${prefix}demo_sessions"`],
    );
    expect(rows).toEqual([{ relpersistence: 'u' }]);
    const kept = await pool.query(`SELECT sid FROM "${prefix}demo_sessions"`);
    expect(kept.rows).toEqual([{ sid: 'kept' }]);
    // And the sessions of sign-ins land there.
    await signUp(demo, new CookieJar(), new SoftwareAuthenticator(), 'unlogged');
    const count = await pool.query(`SELECT count(*)::int AS n FROM "${prefix}demo_sessions"`);
    expect(count.rows).toEqual([{ n: 2 }]);
  });
});
