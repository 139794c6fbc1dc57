/**
 * The server side of the soak (`soak.mjs` forks it with `--expose-gc`): the Express demo app
 * (`createDemoApp`) on the store wiring named by SOAK_STORE, alone in its process so its memory is
 * the app's and nothing else's.
 *
 * - `redis+postgres`: challenges, rate limits and sessions in Redis (keys under SOAK_REDIS_PREFIX),
 *   accounts and passkeys in PostgreSQL (tables under SOAK_TABLE_PREFIX).
 * - `memory`: the demo's memory wiring (core's memory stores, express-session's MemoryStore, limits
 *   in memory).
 * Both: challenge TTL SOAK_TTL_SECONDS, and the bounded caches set small (public keys 100, pending
 * ceremonies in memory 1,000) so that they are full before warm-up ends: what can still grow after
 * warm-up is only what is not bounded.
 *
 * IPC: sends `{ type: 'ready', url, origin }`. Answers `{ type: 'stats', gc }` with this process's
 * `process.memoryUsage()` (after two full collections when `gc` is true) and the errors Passgate
 * logged so far, `{ type: 'snapshot', path }` with a heap snapshot written there, and `{ type:
 * 'stop' }` by closing the server and the store connections, then exiting.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import { writeHeapSnapshot } from 'node:v8';
import { createMemoryStores, createPassgate } from '@passgate/core';
import { createPostgresStores, migrate } from '@passgate/postgres';
import { createRedisRateLimiters, createRedisStores, isUnavailableError } from '@passgate/redis';
import { RedisStore } from 'connect-redis';
import session from 'express-session';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createDemoApp, loadDemoConfig, resolveOrigin, withStoreOutages } from '../dist/index.js';

const STORE = process.env.SOAK_STORE ?? 'redis+postgres';
const TTL_SECONDS = Number(process.env.SOAK_TTL_SECONDS ?? 5);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const prefix = process.env.SOAK_REDIS_PREFIX ?? 'soak:';
const tablePrefix = process.env.SOAK_TABLE_PREFIX ?? 'soak_';
if (typeof globalThis.gc !== 'function') throw new Error('soak-server.mjs needs --expose-gc');

// Every error Passgate logs is counted; the first three are kept for the report.
const errors = [];
let errorCount = 0;
const logger = {
  debug() {},
  info() {},
  warn() {},
  error: (message, fields) => {
    errorCount++;
    if (errors.length < 3) errors.push(`${message} ${JSON.stringify({ ...fields, stack: undefined })}`);
  },
};

const server = createServer();
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const { port } = server.address();
const config = resolveOrigin(
  loadDemoConfig(
    { PORT: String(port), SESSION_SECRET: 'soak-session-secret-0123456789abcdef' },
    { warn: () => {} },
  ),
  port,
);

const closers = [];
let stores;
let rateLimits;
let sessionStore;
if (STORE === 'memory') {
  stores = createMemoryStores({ maxPendingChallenges: 1000 });
  rateLimits = { perIp: { points: 1_000_000_000, durationSeconds: 60 } };
  sessionStore = new session.MemoryStore();
} else if (STORE === 'redis+postgres') {
  const client = new Redis(REDIS_URL, {
    autoResendUnfulfilledCommands: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 1000,
  });
  client.on('error', () => {});
  await once(client, 'ready');
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 10, query_timeout: 5000 });
  pool.on('error', () => {});
  await migrate({ pool, tablePrefix });
  const pgStores = createPostgresStores({ pool, tablePrefix });
  const redisStores = createRedisStores({ client, prefix });
  stores = {
    challenges: redisStores.challenges,
    credentials: pgStores.credentials,
    accounts: pgStores.accounts,
  };
  rateLimits = createRedisRateLimiters({
    client,
    prefix,
    perIp: { points: 1_000_000_000, durationSeconds: 60 },
  });
  // As the demo on Redis has it (src/backend.ts): the session store's outages answer 503.
  sessionStore = withStoreOutages(
    new RedisStore({ client, prefix: `${prefix}sess:`, disableTouch: true }),
    isUnavailableError,
  );
  closers.push(
    () => client.quit().catch(() => client.disconnect()),
    () => pool.end(),
  );
} else {
  throw new Error(`SOAK_STORE: expected memory or redis+postgres, got "${STORE}"`);
}

const passgate = createPassgate({
  rp: { name: 'Passgate soak', id: config.rpId, origins: [config.origin] },
  stores,
  secret: config.passgateSecret,
  logger,
  policy: { challengeTtlSeconds: TTL_SECONDS },
  reauthenticationWindowSeconds: 3600,
  publicKeyCacheSize: 100,
  rateLimits,
});
server.on(
  'request',
  createDemoApp(config, { passgate, sessionStore, description: `soak (${STORE})`, close: async () => {} }),
);

function memory(collect) {
  let gcMs = 0;
  if (collect) {
    const started = performance.now();
    // Two passes: the first can leave garbage that only a weak/finalizer step releases.
    globalThis.gc();
    globalThis.gc();
    gcMs = performance.now() - started;
  }
  const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
  return { rss, heapUsed, heapTotal, external, arrayBuffers, gcMs };
}

process.on('message', async (message) => {
  if (message.type === 'stats') {
    process.send({ type: 'stats', ...memory(message.gc), errors: errorCount, firstErrors: errors });
  } else if (message.type === 'snapshot') {
    globalThis.gc();
    process.send({ type: 'snapshot', path: writeHeapSnapshot(message.path) });
  } else if (message.type === 'stop') {
    await new Promise((resolve) => {
      server.close(resolve);
      server.closeAllConnections();
    });
    for (const close of closers) await close();
    process.send({ type: 'stopped' }, () => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(1));
process.send({ type: 'ready', url: `http://127.0.0.1:${port}`, origin: config.origin });
