import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPassgate, type PassgateStores, silentLogger } from '@passgate/core';
import { createPostgresStores, migrate } from '@passgate/postgres';
import { createRedisRateLimiters, createRedisStores } from '@passgate/redis';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
// The Redis package's private redis-server helpers: one copy for its fault tests and this one.
import { findRedisServer, freePort, waitForPing } from '../../../packages/redis/test/helpers.js';
import { type LoadResult, runLoad, serveDemoApp, sleep } from './fault-load.js';

/**
 * Faults at HTTP level on the real servers (issue 12): the Express demo app, in-process, on a
 * private redis-server this test starts (paused with SIGSTOP, killed with SIGKILL and restarted on
 * its append-only file), and on PostgreSQL (backends terminated, statements timed out behind a
 * lock). Clients keep signing up and signing in throughout. Checked: every answer is 200 or
 * `503 store_unavailable`, a 503 comes within 1 s, the process never crashes, service comes back
 * without a restart, and afterwards the store holds every account and passkey the clients saw
 * succeed, each whole (nothing lost, nothing half-written), with counters no lower than the last
 * successful sign-in's.
 */

const SECRET = 'fault-test-passgate-secret-0123456789abcdef';
const OUTAGE_ANSWER_MS = 1000;

function rp(origin: string) {
  return { name: 'Passgate fault test', id: new URL(origin).hostname, origins: [origin] };
}

/** Every answer was 200 or a prompt 503 store_unavailable; some of each. */
function expectOnlySuccessOrPromptOutage(label: string, load: LoadResult): void {
  const unexpected = load.outcomes.filter((o) => o.status !== 200 && o.status !== 503);
  expect(unexpected.map((o) => `${o.kind} ${o.status} ${o.code}`)).toEqual([]);
  const outages = load.outcomes.filter((o) => o.status === 503);
  expect(outages.length).toBeGreaterThan(0);
  expect(outages.every((o) => o.code === 'store_unavailable')).toBe(true);
  const slowest = Math.max(...outages.map((o) => o.ms));
  const ok = load.outcomes.filter((o) => o.status === 200).length;
  console.log(
    `${label}: ${ok} answers 200, ${outages.length} answers 503 (slowest ${slowest.toFixed(0)} ms)`,
  );
  expect(slowest, 'slowest 503').toBeLessThanOrEqual(OUTAGE_ANSWER_MS);
  expect(load.outcomes.filter((o) => o.status === 200 && o.kind === 'sign-in').length).toBeGreaterThan(0);
}

/** Service came back without a restart: the clients' last sign-in, after the fault, succeeded. */
function expectLastSignInSucceeded(load: LoadResult): void {
  const last = load.outcomes.filter((o) => o.kind === 'sign-in').at(-1);
  expect(last?.status).toBe(200);
}

/** What the clients saw succeed is in the store, whole; no account is left without a passkey. */
async function expectDataWhole(stores: PassgateStores, load: LoadResult): Promise<void> {
  expect(load.signedUp.size).toBeGreaterThan(0);
  for (const [username, credentialId] of load.signedUp) {
    const account = await stores.accounts.findByUsername(username);
    expect(account, `account ${username}`).not.toBeNull();
    const credentials = await stores.credentials.listByUserHandle(account!.userHandle);
    expect(credentials.map((c) => c.id)).toEqual([credentialId]);
    const stored = credentials[0]!;
    expect(stored.publicKey.length).toBeGreaterThan(0);
    expect(stored.counter).toBeGreaterThanOrEqual(load.lastCounter.get(credentialId) ?? 0);
    expect(stored.counter).toBeLessThanOrEqual(load.sentCounter.get(credentialId) ?? 0);
  }
}

/** Runs `clients` loops while `fault` runs, then a little longer; resolves what they saw. */
async function loadAround(
  url: Parameters<typeof runLoad>[0],
  fault: () => Promise<void>,
): Promise<LoadResult> {
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  const load = runLoad(url, 4, stopped);
  await sleep(800);
  await fault();
  await sleep(1500);
  stop();
  return load;
}

const redisServerBinary = findRedisServer();

describe.skipIf(!redisServerBinary)(
  'faults at HTTP level: the Express demo on a private redis-server',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'passgate-faults-'));
    let port = 0;
    let server: ChildProcess | undefined;

    async function startRedis(): Promise<void> {
      server = spawn(
        redisServerBinary as string,
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--save',
          '',
          '--appendonly',
          'yes',
          '--appendfsync',
          'always',
          '--dir',
          dir,
        ],
        { stdio: 'ignore' },
      );
      await waitForPing(port);
    }

    afterAll(() => {
      server?.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    });

    it('paused, then killed and restarted mid-load: 503 within 1 s, no crash, recovery without restart, data whole', {
      timeout: 60_000,
    }, async () => {
      port = await freePort();
      await startRedis();
      const client = new Redis({
        port,
        lazyConnect: true,
        autoResendUnfulfilledCommands: false,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        // Bounds every command, the rate limiters' included (they have no deadline of their own).
        commandTimeout: 250,
        retryStrategy: () => 100,
      });
      client.on('error', () => {});
      await client.connect();
      const stores = createRedisStores({ client, prefix: 'fault:', commandTimeoutMs: 250 });
      const demo = await serveDemoApp((origin) =>
        createPassgate({
          rp: rp(origin),
          stores,
          secret: SECRET,
          logger: silentLogger,
          rateLimits: createRedisRateLimiters({
            client,
            prefix: 'fault:',
            perIp: { points: 100_000, durationSeconds: 60 },
          }),
        }),
      );
      try {
        const paused = await loadAround(demo, async () => {
          server?.kill('SIGSTOP');
          await sleep(1500);
          server?.kill('SIGCONT');
        });
        expectOnlySuccessOrPromptOutage('paused', paused);
        await expectDataWhole(stores, paused);

        const killed = await loadAround(demo, async () => {
          server?.kill('SIGKILL');
          await sleep(1000);
          await startRedis();
        });
        expectOnlySuccessOrPromptOutage('killed', killed);
        expectLastSignInSucceeded(killed);
        await expectDataWhole(stores, killed);
      } finally {
        await demo.close();
        client.disconnect();
      }
    });
  },
);

describe('faults at HTTP level: the Express demo on PostgreSQL', () => {
  const databaseUrl = process.env['PASSGATE_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
  const tablePrefix = `fault_${process.pid}_`;
  const applicationName = `passgate-faults-${process.pid}`;
  const admin = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  admin.on('error', () => {});

  afterAll(async () => {
    for (const table of ['credentials', 'challenges', 'migrations', 'accounts']) {
      await admin.query(`DROP TABLE IF EXISTS "${tablePrefix}${table}" CASCADE`);
    }
    await admin.end();
  });

  it('backends terminated and statements timed out mid-load: 503 within 1 s, no crash, recovery, data whole', {
    timeout: 60_000,
  }, async () => {
    const pool = new pg.Pool({
      connectionString: databaseUrl,
      max: 8,
      application_name: applicationName,
      connectionTimeoutMillis: 500,
      query_timeout: 800,
      // A statement that waits (behind a lock, on a slow disk) gives up in time: 57014, an outage.
      options: '-c statement_timeout=400',
    });
    pool.on('error', () => {});
    await migrate({ pool, tablePrefix });
    const stores = createPostgresStores({ pool, tablePrefix });
    const demo = await serveDemoApp((origin) =>
      createPassgate({
        rp: rp(origin),
        stores,
        secret: SECRET,
        logger: silentLogger,
        rateLimits: { perIp: false },
      }),
    );
    try {
      const terminated = await loadAround(demo, async () => {
        // Every backend, six times, 200 ms apart; and at least three times a backend caught running
        // a statement, so that some request meets the outage (with the statements of a turn sent
        // together, an instant with none running is common, and idle backends die unnoticed).
        let busyHits = 0;
        for (let i = 0; i < 6; i++) {
          await admin.query(
            'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
            [applicationName],
          );
          await sleep(200);
        }
        for (let tries = 0; busyHits < 3 && tries < 500; tries++) {
          // MATERIALIZED: the filter runs first, so only the demo's busy backends are terminated.
          const { rows } = await admin.query<{ n: number }>(
            `WITH busy AS MATERIALIZED (
               SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND state = 'active'
             )
             SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n FROM busy`,
            [applicationName],
          );
          busyHits += rows[0]?.n ?? 0;
          await sleep(5);
        }
        expect(busyHits, 'backends caught running a statement').toBeGreaterThanOrEqual(3);
      });
      expectOnlySuccessOrPromptOutage('terminated', terminated);
      await expectDataWhole(stores, terminated);

      const locked = await loadAround(demo, async () => {
        const holder = await admin.connect();
        try {
          await holder.query('BEGIN');
          await holder.query(
            `LOCK TABLE "${tablePrefix}accounts", "${tablePrefix}credentials", "${tablePrefix}challenges" IN ACCESS EXCLUSIVE MODE`,
          );
          await sleep(1500);
          await holder.query('ROLLBACK');
        } finally {
          holder.release();
        }
      });
      expectOnlySuccessOrPromptOutage('locked', locked);
      expectLastSignInSucceeded(locked);
      await expectDataWhole(stores, locked);
    } finally {
      await demo.close();
      await pool.end();
    }
  });
});
