import { createServer, type Server, type Socket } from 'node:net';
import { isPassgateError } from '@passgate/core';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toStoreError } from '../src/errors.js';
import { createPostgresStores, isUnavailableError, type PostgresStores } from '../src/index.js';
import {
  account,
  b64u,
  credential,
  lockWaiters,
  migratedSchemaForFile,
  newPool,
  randomSchema,
} from './helpers.js';

const { pool, schema, stores } = migratedSchemaForFile('faults');

/** Every store method once, each returning its settled outcome. */
function everyMethod(s: PostgresStores): Record<string, () => Promise<unknown>> {
  const a = account();
  const c = credential(a.userHandle);
  const at = new Date();
  return {
    'challenges.put': () => s.challenges.put(b64u(), 'v', 1000),
    'challenges.consume': () => s.challenges.consume(b64u()),
    'credentials.create': () => s.credentials.create(c),
    'credentials.findById': () => s.credentials.findById(c.id),
    'credentials.listByUserHandle': () => s.credentials.listByUserHandle(a.userHandle),
    'credentials.updateAfterSignIn': () =>
      s.credentials.updateAfterSignIn({
        id: c.id,
        expectedCounter: 0,
        counter: 1,
        backedUp: true,
        lastUsedAt: at,
      }),
    'credentials.rename': () => s.credentials.rename(a.userHandle, c.id, 'n'),
    'credentials.delete(allowLast: true)': () =>
      s.credentials.delete(a.userHandle, c.id, { allowLast: true }),
    'credentials.delete(allowLast: false)': () =>
      s.credentials.delete(a.userHandle, c.id, { allowLast: false }),
    'accounts.findByUserHandle': () => s.accounts.findByUserHandle(a.userHandle),
    'accounts.findByUserId': () => s.accounts.findByUserId(a.userId),
    'accounts.findByUsername': () => s.accounts.findByUsername(a.username),
    'accounts.create': () => s.accounts.create(a, c),
    deleteExpiredChallenges: () => s.deleteExpiredChallenges(),
  };
}

/**
 * Calls every method in turn: each must reject with store_unavailable before a timer of `maxMs`,
 * started just after the call, fires. A timer rather than a stopwatch: on a loaded machine timers
 * fire late, the pool's connection timeout and this one alike, so a call ended by that shorter
 * timeout always beats it, and only a call that really waits longer misses it. Resolves the
 * slowest call's time as measured (for the log).
 */
async function expectAllUnavailable(s: PostgresStores, maxMs: number): Promise<number> {
  let slowest = 0;
  for (const [name, call] of Object.entries(everyMethod(s))) {
    const started = performance.now();
    const outcome = call().then(
      () => ({ err: undefined as unknown }),
      (e: unknown) => ({ err: e }),
    );
    let bound: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<'late'>((resolve) => {
      bound = setTimeout(() => resolve('late'), maxMs);
    });
    const settled = await Promise.race([outcome, late]);
    clearTimeout(bound);
    slowest = Math.max(slowest, performance.now() - started);
    expect(settled, `${name} fails within ${maxMs} ms`).not.toBe('late');
    const { err } = settled as { err: unknown };
    expect(isPassgateError(err, 'store_unavailable'), `${name} rejects with store_unavailable`).toBe(true);
    expect((err as Error).cause, `${name} keeps the cause`).toBeDefined();
    expect(isUnavailableError((err as Error).cause), `${name}'s cause is classified unavailable`).toBe(true);
  }
  return slowest;
}

describe('unreachable database', () => {
  it('a closed port gives store_unavailable for every method, promptly', async () => {
    const dead = newPool({
      connectionString: undefined,
      host: '127.0.0.1',
      port: 1,
      user: 'postgres',
      database: 'test',
      connectionTimeoutMillis: 500,
    });
    try {
      const slowest = await expectAllUnavailable(createPostgresStores({ pool: dead, schema }), 1000);
      console.info(`closed port: slowest method failed in ${slowest.toFixed(1)} ms`);
    } finally {
      await dead.end();
    }
  });

  describe('a server that accepts connections and never answers', () => {
    let server: Server;
    let port = 0;
    const sockets = new Set<Socket>();
    beforeAll(async () => {
      server = createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as { port: number }).port;
    });
    afterAll(async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    });

    it('gives store_unavailable for every method after connectionTimeoutMillis', async () => {
      const hung = newPool({
        connectionString: undefined,
        host: '127.0.0.1',
        port,
        user: 'postgres',
        connectionTimeoutMillis: 150,
      });
      try {
        const slowest = await expectAllUnavailable(createPostgresStores({ pool: hung, schema }), 1000);
        console.info(
          `silent server, connectionTimeoutMillis 150: slowest method failed in ${slowest.toFixed(1)} ms`,
        );
      } finally {
        await hung.end();
      }
    });
  });

  it('a pool that has been ended gives store_unavailable', async () => {
    const ended = newPool();
    await ended.end();
    await expect(createPostgresStores({ pool: ended, schema }).challenges.consume('x')).rejects.toMatchObject(
      {
        code: 'store_unavailable',
      },
    );
  });
});

/** Holds, in an open transaction, an uncommitted credential with id `credentialId` (so inserts of it wait). */
async function holdCredentialLock(credentialId: string): Promise<pg.PoolClient> {
  const holder = await pool.connect();
  const a = account();
  await holder.query('BEGIN');
  await holder.query(
    `INSERT INTO "${schema}".passgate_accounts (user_id, user_handle, username, display_name, created_at) VALUES ($1, $2, $3, $4, now())`,
    [a.userId, Buffer.from(a.userHandle, 'base64url'), a.username, a.displayName],
  );
  await holder.query(
    `INSERT INTO "${schema}".passgate_credentials (id, user_handle, public_key, algorithm, counter, backup_eligible, backed_up, aaguid, attestation_format, created_at)
     VALUES ($1, $2, '\\x00', -7, 0, false, false, '00000000-0000-0000-0000-000000000000', 'none', now())`,
    [Buffer.from(credentialId, 'base64url'), Buffer.from(a.userHandle, 'base64url')],
  );
  return holder;
}

describe('queries cancelled or cut off mid-way', () => {
  it('statement_timeout during sign-up: store_unavailable, and neither account nor credential is written', async () => {
    const slowPool = newPool({ statement_timeout: 200, max: 2 });
    const slowStores = createPostgresStores({ pool: slowPool, schema });
    const a = account();
    const c = credential(a.userHandle);
    const holder = await holdCredentialLock(c.id);
    try {
      const started = performance.now();
      const err = await slowStores.accounts.create(a, c).catch((e: unknown) => e);
      const took = performance.now() - started;
      console.info(`statement_timeout 200 ms: sign-up failed after ${took.toFixed(0)} ms`);
      expect(isPassgateError(err, 'store_unavailable')).toBe(true);
      // Ended by statement_timeout (57014, "statement timeout"), while the lock is still held: not by
      // the lock's release, nor by any other timeout. Said by the cause, which no load can change.
      expect((err as Error).cause).toMatchObject({
        code: '57014',
        message: expect.stringMatching(/statement timeout/),
      });
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    expect(await stores.accounts.findByUserId(a.userId)).toBeNull();
    expect(await stores.accounts.findByUsername(a.username)).toBeNull();
    expect(await stores.credentials.findById(c.id)).toBeNull();
    // The client went back to the pool in a usable state.
    expect(await slowStores.challenges.put(b64u(), 'v', 1000)).toBe(true);
    expect(slowPool.totalCount).toBe(slowPool.idleCount);
    await slowPool.end();
  });

  it('pg_cancel_backend during sign-up: store_unavailable, nothing written, and the sign-up can be retried', async () => {
    const a = account();
    const c = credential(a.userHandle);
    const holder = await holdCredentialLock(c.id);
    let result: Promise<unknown>;
    try {
      result = stores.accounts.create(a, c).then(
        () => 'resolved',
        (e: unknown) => e,
      );
      const [{ pid }] = await lockWaiters(pool, `%"${schema}"%`);
      await pool.query('SELECT pg_cancel_backend($1)', [pid]);
      const err = await result;
      expect(isPassgateError(err, 'store_unavailable')).toBe(true);
      expect(((err as Error).cause as { code?: string }).code).toBe('57014');
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    expect(await stores.accounts.findByUserId(a.userId)).toBeNull();
    expect(await stores.credentials.findById(c.id)).toBeNull();
    await stores.accounts.create(a, c);
    expect(await stores.accounts.findByUserId(a.userId)).toEqual(a);
  });

  it('pg_terminate_backend during sign-up: store_unavailable, nothing written, the dead client is not reused', async () => {
    const own = newPool({ max: 1 });
    const ownStores = createPostgresStores({ pool: own, schema });
    const a = account();
    const c = credential(a.userHandle);
    const holder = await holdCredentialLock(c.id);
    try {
      const result = ownStores.accounts.create(a, c).then(
        () => 'resolved',
        (e: unknown) => e,
      );
      const [{ pid }] = await lockWaiters(pool, `%"${schema}"%`);
      await pool.query('SELECT pg_terminate_backend($1)', [pid]);
      const err = await result;
      expect(isPassgateError(err, 'store_unavailable')).toBe(true);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    expect(await stores.accounts.findByUserId(a.userId)).toBeNull();
    expect(await stores.credentials.findById(c.id)).toBeNull();
    // With max 1, this only works if the terminated client was destroyed rather than returned.
    expect(await ownStores.challenges.put(b64u(), 'v', 1000)).toBe(true);
    await own.end();
  });

  it('pg_cancel_backend during a guarded delete: store_unavailable and nothing deleted', async () => {
    const a = account();
    const c1 = credential(a.userHandle);
    const c2 = credential(a.userHandle);
    await stores.accounts.create(a, c1);
    await stores.credentials.create(c2);
    const holder = await pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM "${schema}".passgate_credentials WHERE id = $1 FOR UPDATE`, [
        Buffer.from(c2.id, 'base64url'),
      ]);
      const result = stores.credentials.delete(a.userHandle, c1.id, { allowLast: false }).then(
        (r) => r,
        (e: unknown) => e,
      );
      const [{ pid }] = await lockWaiters(pool, `%"${schema}"%`);
      await pool.query('SELECT pg_cancel_backend($1)', [pid]);
      expect(isPassgateError(await result, 'store_unavailable')).toBe(true);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    expect((await stores.credentials.listByUserHandle(a.userHandle)).map((c) => c.id).sort()).toEqual(
      [c1.id, c2.id].sort(),
    );
  });

  it('query_timeout (client side) gives store_unavailable', async () => {
    const impatient = newPool({ query_timeout: 100, max: 1 });
    try {
      const s = createPostgresStores({ pool: impatient, schema });
      const a = account();
      const c = credential(a.userHandle);
      const holder = await holdCredentialLock(c.id);
      try {
        await expect(s.credentials.create(c)).rejects.toMatchObject({ code: 'store_unavailable' });
      } finally {
        await holder.query('ROLLBACK');
        holder.release();
      }
      expect(await stores.credentials.findById(c.id)).toBeNull();
    } finally {
      await impatient.end();
    }
  });

  it('the sweeper reports failures to onError and keeps going', async () => {
    const dead = newPool({
      connectionString: undefined,
      host: '127.0.0.1',
      port: 1,
      connectionTimeoutMillis: 100,
    });
    const errors: unknown[] = [];
    // Waits for the second failure itself: a fixed wait could end, on a loaded machine, before the
    // sweeper's timer or the refused connection had been handled even once.
    let secondError!: () => void;
    const twoErrors = new Promise<void>((resolve) => {
      secondError = resolve;
    });
    const stop = createPostgresStores({ pool: dead, schema }).startChallengeSweeper({
      intervalMs: 20,
      onError: (e) => {
        if (errors.push(e) === 2) secondError();
      },
    });
    await twoErrors;
    stop();
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(errors.every((e) => isPassgateError(e, 'store_unavailable'))).toBe(true);
    await dead.end();
  });
});

/**
 * The classifier on its own, on the error shapes node-postgres and Node give. That every store
 * method maps such errors to `store_unavailable` with the cause kept is shown above on real faults:
 * a closed port, a silent server, an ended pool, statement_timeout, query_timeout,
 * pg_cancel_backend and pg_terminate_backend.
 */
describe('error classification', () => {
  const noConstraints = new Map<string, () => Error>();

  const unavailable: [string, unknown][] = [
    [
      'query_canceled',
      Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }),
    ],
    ['connection_failure', Object.assign(new Error('x'), { code: '08006' })],
    ['admin_shutdown', Object.assign(new Error('terminating connection'), { code: '57P01' })],
    ['cannot_connect_now', Object.assign(new Error('the database system is starting up'), { code: '57P03' })],
    ['too_many_connections', Object.assign(new Error('sorry, too many clients'), { code: '53300' })],
    ['ECONNREFUSED', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
    ['ETIMEDOUT', Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' })],
    ['ECONNRESET', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
    ['Connection terminated', new Error('Connection terminated unexpectedly')],
    ['pool connect timeout', new Error('timeout exceeded when trying to connect')],
    ['query_timeout', new Error('Query read timeout')],
    ['AggregateError', new AggregateError([Object.assign(new Error('a'), { code: 'ECONNREFUSED' })], '')],
  ];
  for (const [name, err] of unavailable) {
    it(`${name} → store_unavailable with the cause kept`, () => {
      expect(isUnavailableError(err)).toBe(true);
      const mapped = toStoreError(err, noConstraints);
      expect(isPassgateError(mapped, 'store_unavailable')).toBe(true);
      expect((mapped as Error).cause).toBe(err);
    });
  }

  const other: [string, unknown][] = [
    ['syntax error', Object.assign(new Error('syntax error'), { code: '42601' })],
    [
      'undefined table (not migrated)',
      Object.assign(new Error('relation does not exist'), { code: '42P01' }),
    ],
    [
      'unknown unique violation',
      Object.assign(new Error('dup'), { code: '23505', constraint: 'something_else' }),
    ],
    ['a plain bug', new TypeError('x is not a function')],
  ];
  for (const [name, err] of other) {
    it(`${name} propagates as is`, () => {
      expect(isUnavailableError(err)).toBe(false);
      expect(toStoreError(err, noConstraints)).toBe(err);
    });
  }

  it('an unmigrated schema is an error, not store_unavailable', async () => {
    const s = createPostgresStores({ pool, schema: randomSchema('absent') });
    const err = await s.challenges.consume('x').catch((e: unknown) => e);
    expect(isPassgateError(err)).toBe(false);
    expect((err as { code?: string }).code).toBe('42P01');
  });
});
