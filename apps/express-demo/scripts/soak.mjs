#!/usr/bin/env node
/**
 * Soak (issue 12 `pnpm soak`, issue 14 `pnpm bench:soak`; not in CI). The Express demo app runs in
 * its own process (`soak-server.mjs`, with `--expose-gc`) and the load in another (`soak-load.mjs`);
 * this process only samples and judges, so the memory measured is the server's alone.
 *
 *   pnpm soak          # 10 min mixed traffic on Redis + PostgreSQL (SOAK_STORE=redis+postgres)
 *   pnpm bench:soak    # 10 min full load on the memory store (SOAK_STORE=memory, fixed population)
 *   SOAK_SECONDS=60 pnpm soak   # a short run
 *
 * Env: SOAK_SECONDS (600), SOAK_WARMUP_SECONDS (a fifth of the run, at most 60), SOAK_SAMPLE_SECONDS
 * (10; a 60th of a shorter run), SOAK_CLIENTS (8), SOAK_STORE (redis+postgres | memory),
 * SOAK_NEW_USERS (share of iterations that sign up a new user; 0.05, and 0 on memory so the state the
 * server holds stays constant), SOAK_HEAP_SNAPSHOTS (a folder: heap snapshots of the server after
 * warm-up and at the end, to diff in DevTools' Memory tab when it grows), SOAK_JSON (write the
 * figures and the time series there), REDIS_URL, DATABASE_URL.
 *
 * Every sample reads the server's RSS from /proc/<pid>/status (its own `process.memoryUsage()` where
 * there is no /proc) and its V8 heap in use after two forced full collections (asked over IPC).
 * The run fails (exit 1) on any 5xx, any error Passgate logged, any ceremony key left once its TTL
 * has passed, any account without a passkey, or growth:
 * - heap: the post-GC heap at the end exceeds the one after warm-up by more than 2 MiB + 5 %;
 * - heap: the post-GC heap's least-squares slope over the second half is above 0.25 MiB/min;
 * - RSS: the median RSS of the last third of the run exceeds the median of the first third after
 *   warm-up by more than 10 MiB + 10 %. (RSS swings by ±20 MiB from one sample to the next with the
 *   allocator's and V8's young generation's pages, so a slope of RSS is mostly noise over 10 minutes:
 *   the post-GC heap is the fine measure, the RSS rule catches memory outside the heap.)
 * Bounded caches are set small in the server so that they are full before warm-up ends.
 * Runs of a minute or less are for trying the harness: V8 is still compiling then, and the heap
 * slope rule mostly sees that.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';

const HERE = dirname(fileURLToPath(import.meta.url));
const SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
const WARMUP = Number(process.env.SOAK_WARMUP_SECONDS ?? Math.min(60, SECONDS / 5));
const SAMPLE = Number(process.env.SOAK_SAMPLE_SECONDS ?? Math.min(10, Math.max(1, SECONDS / 60)));
const CLIENTS = Number(process.env.SOAK_CLIENTS ?? 8);
const STORE = process.env.SOAK_STORE ?? 'redis+postgres';
const NEW_USERS = Number(process.env.SOAK_NEW_USERS ?? (STORE === 'memory' ? 0 : 0.05));
const SNAPSHOTS = process.env.SOAK_HEAP_SNAPSHOTS ? resolve(process.env.SOAK_HEAP_SNAPSHOTS) : null;
const TTL_SECONDS = 5;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const MiB = 2 ** 20;
const RULES = {
  heapGrowthMiB: 2,
  heapGrowthShare: 0.05,
  heapSlopeMiBPerMin: 0.25,
  rssGrowthMiB: 10,
  rssGrowthShare: 0.1,
};
if (!(SECONDS > 0 && WARMUP > 0 && WARMUP < SECONDS && SAMPLE > 0)) {
  throw new Error(
    'SOAK_SECONDS, SOAK_WARMUP_SECONDS (< SOAK_SECONDS) and SOAK_SAMPLE_SECONDS must be positive',
  );
}

const tag = randomBytes(4).toString('hex');
const prefix = `soak-${tag}:`;
const tablePrefix = `soak_${tag}_`;
const durable = STORE === 'redis+postgres';

/** Sends `message` to `child` and resolves with its next message of the same type. */
function ask(child, message, answer = message.type) {
  return new Promise((done, fail) => {
    const onMessage = (reply) => {
      if (reply.type !== answer) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      done(reply);
    };
    const onExit = (code) => fail(new Error(`soak child exited (${code}) before answering ${message.type}`));
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.send(message);
  });
}

function procRss(pid) {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
    return line ? Number(line[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Least-squares slope of `y` over `x`. */
function slope(points) {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  const sxy = points.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0);
  const sxx = points.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  return sxx === 0 ? 0 : sxy / sxx;
}

const env = {
  ...process.env,
  SOAK_STORE: STORE,
  SOAK_TTL_SECONDS: String(TTL_SECONDS),
  SOAK_REDIS_PREFIX: prefix,
  SOAK_TABLE_PREFIX: tablePrefix,
  REDIS_URL,
  DATABASE_URL,
};
const server = fork(join(HERE, 'soak-server.mjs'), { env, execArgv: ['--expose-gc'] });
const [ready] = await once(server, 'message');
if (ready.type !== 'ready') throw new Error(`soak server: unexpected ${JSON.stringify(ready)}`);
console.log(
  `soak: ${SECONDS} s (warm-up ${WARMUP} s, a sample every ${SAMPLE} s), ${CLIENTS} clients, store ${STORE}, ` +
    `new users ${NEW_USERS}, server pid ${server.pid} at ${ready.url}, challenge TTL ${TTL_SECONDS} s`,
);
const load = fork(join(HERE, 'soak-load.mjs'), {
  env: {
    ...env,
    SOAK_URL: ready.url,
    SOAK_ORIGIN: ready.origin,
    SOAK_CLIENTS: String(CLIENTS),
    SOAK_NEW_USERS: String(NEW_USERS),
    SOAK_TAG: tag,
  },
});

if (SNAPSHOTS) mkdirSync(SNAPSHOTS, { recursive: true });
const snapshot = async (name) => {
  if (!SNAPSHOTS) return;
  const { path } = await ask(server, {
    type: 'snapshot',
    path: join(SNAPSHOTS, `soak-${tag}-${name}.heapsnapshot`),
  });
  console.log(`  heap snapshot: ${path}`);
};

const samples = [];
const started = performance.now();
const elapsed = () => (performance.now() - started) / 1000;
const sleepUntil = (seconds) =>
  new Promise((done) => setTimeout(done, Math.max(0, (seconds - elapsed()) * 1000)));
let warmIndex = -1;
for (let next = SAMPLE; ; next += SAMPLE) {
  const due = Math.min(next, SECONDS);
  await sleepUntil(due);
  const { total } = await ask(load, { type: 'count' });
  const stats = await ask(server, { type: 'stats', gc: true });
  const sample = {
    t: Math.round(elapsed()),
    requests: total,
    rssMiB: (procRss(server.pid) ?? stats.rss) / MiB,
    heapMiB: stats.heapUsed / MiB,
    gcMs: stats.gcMs,
  };
  samples.push(sample);
  if (warmIndex < 0 && due >= WARMUP) {
    warmIndex = samples.length - 1;
    await snapshot('warm');
  }
  if (due >= SECONDS) break;
}
await snapshot('end');
const figures = await ask(load, { type: 'stop' }, 'done');
const runSeconds = elapsed();
const serverStats = await ask(server, { type: 'stats', gc: false });

// Ceremony keys and rows: every ceremony's TTL has passed TTL + 2 s after the last request.
let ceremonyKeys = null;
let accounts = null;
let orphans = null;
let redis;
let pool;
if (durable) {
  await new Promise((done) => setTimeout(done, (TTL_SECONDS + 2) * 1000));
  redis = new Redis(REDIS_URL);
  pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  ceremonyKeys = (await scan(`${prefix}ch:*`)).length;
  accounts = (await pool.query(`SELECT count(*)::int AS n FROM "${tablePrefix}accounts"`)).rows[0].n;
  orphans = (
    await pool.query(
      `SELECT count(*)::int AS n FROM "${tablePrefix}accounts" a WHERE NOT EXISTS (SELECT 1 FROM "${tablePrefix}credentials" c WHERE c.user_handle = a.user_handle)`,
    )
  ).rows[0].n;
}
await ask(server, { type: 'stop' }, 'stopped');
if (durable) {
  // This run's keys and tables only (their names carry its tag).
  const keys = await scan(`${prefix}*`);
  for (let i = 0; i < keys.length; i += 500) await redis.unlink(...keys.slice(i, i + 500));
  for (const table of ['credentials', 'challenges', 'migrations', 'accounts']) {
    await pool.query(`DROP TABLE IF EXISTS "${tablePrefix}${table}" CASCADE`);
  }
  redis.disconnect();
  await pool.end();
}

async function scan(match) {
  const found = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found;
}

// The rules.
const warm = samples[warmIndex];
const end = samples.at(-1);
const secondHalf = samples.filter((s) => s.t >= SECONDS / 2);
const heapSlope = slope(secondHalf.map((s) => ({ x: s.t / 60, y: s.heapMiB })));
const rssSlope = slope(secondHalf.map((s) => ({ x: s.t / 60, y: s.rssMiB })));
const afterWarmUp = samples.slice(warmIndex);
const third = Math.max(1, Math.floor(afterWarmUp.length / 3));
const median = (list) => {
  const sorted = list.map((s) => s.rssMiB).sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const rssEarly = median(afterWarmUp.slice(0, third));
const rssLate = median(afterWarmUp.slice(-third));
const rssAllowance = RULES.rssGrowthMiB + RULES.rssGrowthShare * rssEarly;
const heapAllowance = RULES.heapGrowthMiB + RULES.heapGrowthShare * warm.heapMiB;
const failures = [];
if (figures.fiveHundreds > 0) failures.push(`${figures.fiveHundreds} answers 5xx`);
if (serverStats.errors > 0)
  failures.push(`${serverStats.errors} errors logged (first: ${serverStats.firstErrors[0]})`);
if (end.heapMiB - warm.heapMiB > heapAllowance) {
  failures.push(
    `post-GC heap grew ${(end.heapMiB - warm.heapMiB).toFixed(1)} MiB after warm-up (allowed ${heapAllowance.toFixed(1)})`,
  );
}
if (heapSlope > RULES.heapSlopeMiBPerMin)
  failures.push(`post-GC heap slope ${heapSlope.toFixed(2)} MiB/min over the second half`);
if (rssLate - rssEarly > rssAllowance) {
  failures.push(
    `median RSS grew ${(rssLate - rssEarly).toFixed(1)} MiB from the first to the last third (allowed ${rssAllowance.toFixed(1)})`,
  );
}
if (ceremonyKeys) failures.push(`${ceremonyKeys} ceremony keys left after their TTL`);
if (orphans) failures.push(`${orphans} accounts without a passkey`);

const f1 = (n) => n.toFixed(1);
const series = samples.map((s, i) => {
  const before = samples[i - 1] ?? { t: 0, requests: 0 };
  const rate = (s.requests - before.requests) / Math.max(1, s.t - before.t);
  return `    ${String(s.t).padStart(5)} s ${String(Math.round(rate)).padStart(6)}/s  RSS ${f1(s.rssMiB).padStart(6)} MiB  heap after GC ${f1(s.heapMiB).padStart(6)} MiB${i === warmIndex ? '  <- warm-up ends' : ''}`;
});
const statuses = figures.statuses.sort(([a], [b]) => a - b).map(([s, n]) => `${s}:${n}`);
console.log(
  [
    `soak finished: ${figures.total} requests in ${runSeconds.toFixed(0)} s (${(figures.total / runSeconds).toFixed(0)}/s), ${CLIENTS} clients, store ${STORE}, ${figures.users} sign-ups`,
    `  5xx: ${figures.fiveHundreds}; errors logged by the server: ${serverStats.errors}`,
    `  statuses: ${statuses.join(' ')}`,
    `  by kind: ${figures.byKind
      .sort()
      .map(([k, n]) => `${k}=${n}`)
      .join(', ')}`,
    '  server memory over time (post-GC heap: two forced full collections at each sample):',
    ...series,
    `  heap after GC: ${f1(warm.heapMiB)} MiB after warm-up, ${f1(end.heapMiB)} MiB at the end (allowed +${f1(heapAllowance)}); slope over the second half ${heapSlope.toFixed(3)} MiB/min (allowed ${RULES.heapSlopeMiBPerMin})`,
    `  RSS: ${f1(samples[0].rssMiB)} MiB first, ${f1(warm.rssMiB)} after warm-up, ${f1(end.rssMiB)} at the end, max ${f1(Math.max(...samples.map((s) => s.rssMiB)))}; median ${f1(rssEarly)} in the first third after warm-up, ${f1(rssLate)} in the last (allowed +${f1(rssAllowance)}); slope over the second half ${rssSlope.toFixed(2)} MiB/min (noise)`,
    durable
      ? `  accounts: ${accounts}, accounts without a passkey: ${orphans}; ceremony keys left ${TTL_SECONDS + 2} s after the last request: ${ceremonyKeys}`
      : '  (memory store: ceremonies live in the server process; their bound is the heap rule above)',
    failures.length
      ? `FAILED: ${failures.join('; ')}`
      : 'PASSED: no 5xx, no error logged, memory flat by the rules above',
  ].join('\n'),
);
if (process.env.SOAK_JSON) {
  writeFileSync(
    process.env.SOAK_JSON,
    `${JSON.stringify({ store: STORE, seconds: SECONDS, warmup: WARMUP, clients: CLIENTS, rules: RULES, figures, serverErrors: serverStats.errors, ceremonyKeys, accounts, orphans, heapSlope, rssSlope, rssEarly, rssLate, samples, failures }, null, 2)}\n`,
  );
}
process.exit(failures.length ? 1 : 0);
