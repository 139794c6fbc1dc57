/**
 * The app under test for `sign-in.mjs`, run as a child process (`fork`) so the load generator's CPU
 * is not the server's. Express 5 + express-session (MemoryStore) + `createPasskeyRouter`, rate
 * limits off, on 127.0.0.1:0, with the stores of `BENCH_VARIANT`:
 *
 * - `memory`   — `createMemoryStores()`
 * - `redis`    — `createRedisStores()` on 127.0.0.1:6379 under a random key prefix, deleted on stop
 * - `postgres` — `createPostgresStores()` in a schema of its own (`migrate()`), dropped on stop
 * - `mixed`    — challenges in Redis, credentials and accounts in Postgres
 *
 * IPC with the parent: sends `{ type: 'ready', url, stores }`; answers `profile-start` /
 * `profile-stop` (V8 CPU profile of the window in between, the profiler `node --cpu-prof` uses) and
 * `stop` (clean up, then exit).
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { createMemoryStores, createPassgate } from '@passgate/core';
import { createPasskeyRouter } from '@passgate/express';
import { createPostgresStores, migrate } from '@passgate/postgres';
import { createRedisStores } from '@passgate/redis';
import express from 'express';
import session from 'express-session';
import { Redis } from 'ioredis';
import pg from 'pg';

const ORIGIN = 'https://bench.passgate.test';
const RP_ID = 'bench.passgate.test';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const variant = process.env.BENCH_VARIANT ?? 'memory';
const n = Number(process.env.BENCH_N ?? 2000);
const tag = randomBytes(4).toString('hex');
const cleanups = [];

async function redisStores() {
  const client = new Redis(REDIS_URL, {
    enableOfflineQueue: true,
    maxRetriesPerRequest: 1,
    lazyConnect: true,
    // Required by createRedisStores: a re-sent script after a dropped reply would answer wrongly.
    autoResendUnfulfilledCommands: false,
  });
  await client.connect();
  const prefix = `passgate-bench-${tag}:`;
  cleanups.push(async () => {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await client.unlink(...keys);
    } while (cursor !== '0');
    await client.quit();
  });
  return { stores: createRedisStores({ client, prefix }), where: `redis ${REDIS_URL} prefix ${prefix}` };
}

async function postgresStores() {
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 10, query_timeout: 5000, keepAlive: true });
  pool.on('error', () => {});
  const schema = `passgate_bench_${tag}`;
  await migrate({ pool, schema });
  cleanups.push(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });
  return { stores: createPostgresStores({ pool, schema }), where: `postgres schema ${schema}` };
}

async function makeStores() {
  switch (variant) {
    case 'memory':
      // Room for every pre-generated ceremony plus the options-only phase.
      return { stores: createMemoryStores({ maxPendingChallenges: 4 * n + 1000 }), where: 'memory' };
    case 'redis':
      return redisStores();
    case 'postgres':
      return postgresStores();
    case 'mixed': {
      const r = await redisStores();
      const p = await postgresStores();
      return {
        stores: {
          challenges: r.stores.challenges,
          credentials: p.stores.credentials,
          accounts: p.stores.accounts,
        },
        where: `challenges: ${r.where}; credentials+accounts: ${p.where}`,
      };
    }
    default:
      throw new Error(`unknown BENCH_VARIANT ${variant} (memory, redis, postgres, mixed)`);
  }
}

async function cleanUp() {
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      await cleanup();
    } catch (error) {
      console.error(`[server] cleanup failed: ${error}`);
    }
  }
}

let profiler;

async function main() {
  const { stores, where } = await makeStores();
  const passgate = createPassgate({
    rp: { name: 'Passgate bench', id: RP_ID, origins: [ORIGIN] },
    stores,
    secret: 'passgate-express-bench-secret-not-for-production',
    rateLimits: { perIp: false, accountFailures: false },
  });
  const app = express();
  app.use(
    session({ secret: 'passgate-express-bench-session-secret', resave: false, saveUninitialized: false }),
  );
  app.use(createPasskeyRouter({ passgate }));
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();

  process.on('message', async (message) => {
    try {
      if (message?.type === 'profile-start') {
        profiler = new Session();
        profiler.connect();
        await profiler.post('Profiler.enable');
        await profiler.post('Profiler.setSamplingInterval', { interval: 100 });
        await profiler.post('Profiler.start');
        process.send({ type: 'profile-started' });
      } else if (message?.type === 'profile-stop') {
        const { profile } = await profiler.post('Profiler.stop');
        profiler.disconnect();
        const file = join(message.dir, `verify-${variant}-${process.pid}.cpuprofile`);
        await writeFile(file, JSON.stringify(profile));
        process.send({ type: 'profile-written', file });
      } else if (message?.type === 'stop') {
        server.closeAllConnections();
        server.close();
        await cleanUp();
        process.send({ type: 'stopped' }, () => process.exit(0));
      }
    } catch (error) {
      console.error(`[server] ${error?.stack ?? error}`);
      process.exit(1);
    }
  });
  process.on('disconnect', () => {
    // The parent went away without `stop`: still clean up, then leave.
    cleanUp().finally(() => process.exit(1));
  });
  process.send({ type: 'ready', url: `http://127.0.0.1:${port}`, origin: ORIGIN, stores: where });
}

main().catch(async (error) => {
  console.error(`[server] ${error?.stack ?? error}`);
  await cleanUp();
  process.exit(1);
});
