/**
 * `pnpm bench:ceremonies` (not in CI): bytes each pending ceremony costs its store, measured with
 * `CEREMONIES` (100,000) pending sign-in ceremonies made by `startAuthentication`, as the contract's
 * `login/options` makes them: usernameless, and username-first for an unknown username (its decoy
 * `allowCredentials` are kept with the ceremony, so it is the larger kind).
 *
 * - memory: heap growth of `createMemoryStores` (capped here at the count, not its 10,000 default),
 *   after a full GC before and after (run with `--expose-gc`).
 * - Redis: growth of `INFO memory` `used_memory`, under a random key prefix, deleted afterwards;
 *   plus `MEMORY USAGE` of 1,000 of the keys (a figure other clients' traffic cannot move).
 * - PostgreSQL: growth of `pg_total_relation_size` of the challenge table (heap, TOAST and both
 *   indexes), in a schema of its own, dropped afterwards.
 *
 * Prints a table and the JSON. Issue 14's goal: at most 1 KB (1,024 bytes) per pending ceremony.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';

const COUNT = Number(process.env.CEREMONIES ?? 100_000);
const BATCH = 200;
const LIMIT = 1024;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

// The demo's own copies of the packages and clients (as server.mjs loads them).
const demoRequire = createRequire(createRequire(import.meta.url).resolve('@passgate/express-demo'));
const { createMemoryStores, createPassgate, silentLogger } = demoRequire('@passgate/core');
const { createRedisStores } = demoRequire('@passgate/redis');
const { createPostgresStores, migrate } = demoRequire('@passgate/postgres');
const { Redis } = demoRequire('ioredis');
const pg = demoRequire('pg');

if (typeof globalThis.gc !== 'function') {
  console.error('Run with node --expose-gc (pnpm bench:ceremonies does).');
  process.exit(2);
}

function passgateOn(stores) {
  return createPassgate({
    rp: { name: 'ceremony bytes', id: 'localhost', origins: ['http://localhost:3000'] },
    stores,
    secret: 'ceremony-bytes-bench-secret-0123456789abcdef',
    logger: silentLogger,
    rateLimits: { perIp: false, accountFailures: false },
  });
}

/** `COUNT` pending ceremonies of `kind`, `BATCH` at a time. */
async function fill(passgate, kind) {
  for (let made = 0; made < COUNT; made += BATCH) {
    const batch = [];
    for (let i = made; i < Math.min(COUNT, made + BATCH); i++) {
      batch.push(passgate.startAuthentication(kind === 'username' ? { username: `nobody-${i}` } : {}));
    }
    await Promise.all(batch);
  }
}

function heapUsed() {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
}

async function memory(kind) {
  const before = heapUsed();
  const stores = createMemoryStores({ maxPendingChallenges: COUNT });
  await fill(passgateOn(stores), kind);
  const bytes = heapUsed() - before;
  // Keep the stores alive until measured.
  stores.challenges.put('keep-alive', 'x', 1000);
  return { store: 'memory', kind, bytesPerCeremony: bytes / COUNT, how: 'heapUsed delta' };
}

async function keysUnder(client, prefix) {
  const keys = [];
  let cursor = '0';
  do {
    const [next, found] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...found);
  } while (cursor !== '0');
  return keys;
}

async function redis(kind) {
  const client = new Redis(REDIS_URL, { autoResendUnfulfilledCommands: false, maxRetriesPerRequest: 1 });
  const prefix = `passgate-ceremony-bytes-${randomBytes(4).toString('hex')}:`;
  const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await client.info('memory'))[1]);
  try {
    const before = await usedMemory();
    await fill(passgateOn(createRedisStores({ client, prefix })), kind);
    const after = await usedMemory();
    const keys = await keysUnder(client, prefix);
    const sample = keys.slice(0, 1000);
    let sampled = 0;
    for (const key of sample) sampled += Number(await client.memory('USAGE', key, 'SAMPLES', '0'));
    if (keys.length !== COUNT) throw new Error(`expected ${COUNT} keys, found ${keys.length}`);
    return {
      store: 'redis',
      kind,
      bytesPerCeremony: (after - before) / COUNT,
      how: 'used_memory delta',
      memoryUsagePerKey: sampled / sample.length,
    };
  } finally {
    // Whatever happened, nothing under the prefix stays behind.
    const left = await keysUnder(client, prefix);
    for (let i = 0; i < left.length; i += 500) await client.del(...left.slice(i, i + 500));
    client.disconnect();
  }
}

async function postgres(kind) {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
  const schema = `passgate_ceremony_bytes_${randomBytes(4).toString('hex')}`;
  const table = `"${schema}"."passgate_challenges"`;
  const size = async () => {
    await pool.query(`VACUUM ANALYZE ${table}`);
    const res = await pool.query('SELECT pg_total_relation_size($1::regclass) AS bytes', [table]);
    return Number(res.rows[0].bytes);
  };
  try {
    await migrate({ pool, schema });
    const before = await size();
    await fill(passgateOn(createPostgresStores({ pool, schema })), kind);
    const after = await size();
    const count = Number((await pool.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
    if (count !== COUNT) throw new Error(`expected ${COUNT} rows, found ${count}`);
    return {
      store: 'postgres',
      kind,
      bytesPerCeremony: (after - before) / COUNT,
      how: 'pg_total_relation_size delta',
    };
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  }
}

const only = process.env.CEREMONY_STORES?.split(',') ?? ['memory', 'redis', 'postgres'];
const results = [];
for (const kind of ['usernameless', 'username']) {
  if (only.includes('memory')) results.push(await memory(kind));
  if (only.includes('redis')) results.push(await redis(kind));
  if (only.includes('postgres')) results.push(await postgres(kind));
}

console.log(`Bytes per pending ceremony, ${COUNT.toLocaleString('en')} pending (goal: at most ${LIMIT}):`);
console.log('| store | ceremony | bytes each | measured by |');
console.log('|---|---|---|---|');
for (const r of results) {
  const extra = r.memoryUsagePerKey ? ` (MEMORY USAGE per key: ${Math.round(r.memoryUsagePerKey)})` : '';
  console.log(`| ${r.store} | ${r.kind} | ${Math.round(r.bytesPerCeremony)} | ${r.how}${extra} |`);
}
console.log(JSON.stringify({ ceremonies: COUNT, node: process.version, results }, null, 2));
const over = results.filter((r) => r.bytesPerCeremony > LIMIT);
if (over.length > 0) {
  console.error(`Over ${LIMIT} bytes: ${over.map((r) => `${r.store}/${r.kind}`).join(', ')}`);
  process.exitCode = 1;
}
