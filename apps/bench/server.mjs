/**
 * One server under test, run by `run.mjs` as a child process pinned to its own core. `BENCH_TARGET`
 * is `baseline` or `tunedbaseline` (the hand-rolled fixture, memory only), `express` or `nestjs` (the demos, as
 * `pnpm demo` starts them) and `BENCH_STORE` is `memory`, `redis` or `postgres`.
 *
 * IPC: sends `{ type: 'ready', url, origin }`; answers `stats` with this process's CPU time (µs), RSS,
 * the store commands it has sent so far (Redis commands, PostgreSQL queries), its garbage collections
 * so far (the longest pause since the last `stats`) and its event-loop delay since the last `stats`;
 * and `stop` (close, remove the keys/tables this run made, exit).
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { createBaselineApp } from './baseline-server.mjs';
import { loopLateness } from './loop-delay.mjs';

const target = process.env.BENCH_TARGET ?? 'baseline';
const store = process.env.BENCH_STORE ?? 'memory';
const tag = randomBytes(4).toString('hex');
const redisPrefix = `passgate-bench-${tag}:`;
const tablePrefix = `passgate_bench_${tag}_`;
const storeCalls = { redis: 0, postgres: 0 };

// Where a slow ceremony's time may go on this side: garbage collection (count, pause total and the
// longest pause, cumulative) and the event loop's delay (how late a 10 ms timer fires: the longest
// task or pause that blocked every request behind it; reset at each `stats`). Both cost next to
// nothing: the observer gets one entry per GC, the timer ticks 100 times a second.
const gc = { count: 0, totalMs: 0, maxMs: 0, majorCount: 0, majorMs: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gc.count += 1;
    gc.totalMs += entry.duration;
    gc.maxMs = Math.max(gc.maxMs, entry.duration);
    if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
      gc.majorCount += 1;
      gc.majorMs += entry.duration;
    }
  }
}).observe({ entryTypes: ['gc'] });
const loopDelay = loopLateness();

// Count what the demo sends to its stores, on the very module instances the demo loads: the clients
// are opened by @passgate/demo-server (pnpm may resolve another copy of ioredis or pg for
// express-demo itself, e.g. for a different supports-color, whose prototype the demo never uses).
const expressDemoRequire = createRequire(createRequire(import.meta.url).resolve('@passgate/express-demo'));
const demoRequire = createRequire(expressDemoRequire.resolve('@passgate/demo-server'));
const { Redis } = demoRequire('ioredis');
const pg = demoRequire('pg');
const sendCommand = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function countedSendCommand(...args) {
  storeCalls.redis += 1;
  return sendCommand.apply(this, args);
};
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function countedQuery(...args) {
  storeCalls.postgres += 1;
  return query.apply(this, args);
};

/**
 * `baseline` as SimpleWebAuthn's docs show it (`http.createServer(app)`, what `app.listen` does);
 * `tunedbaseline` the same app on a server that makes requests with the app's own prototypes, as
 * `expressServerOptions` does for the demos (written out here so the fixture imports no Passgate code).
 */
async function startBaseline() {
  const http = await import('node:http');
  function TunedRequest(socket) {
    http.IncomingMessage.call(this, socket);
  }
  function TunedResponse(req, options) {
    http.ServerResponse.call(this, req, options);
  }
  const server =
    target === 'tunedbaseline'
      ? http.createServer({ IncomingMessage: TunedRequest, ServerResponse: TunedResponse })
      : http.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  const origin = `http://localhost:${port}`;
  const app = createBaselineApp({ rpId: 'localhost', origin });
  TunedRequest.prototype = app.request;
  TunedResponse.prototype = app.response;
  server.on('request', app);
  return { url: `http://127.0.0.1:${port}`, origin, close: () => new Promise((done) => server.close(done)) };
}

async function startPassgateDemo() {
  const { loadDemoConfig } = await import('@passgate/express-demo');
  const { startDemo } =
    target === 'nestjs' ? await import('@passgate/nestjs-demo') : await import('@passgate/express-demo');
  const config = loadDemoConfig(
    {
      PORT: '0',
      SESSION_SECRET: 'passgate-bench-session-secret-not-for-production',
      PASSGATE_STORE: store,
      // The limiter still runs on every request (its cost is measured); one IP must not hit it.
      PASSGATE_RATE_LIMIT_POINTS: '1000000000',
      ...(process.env.BENCH_REDIS_URL ? { REDIS_URL: process.env.BENCH_REDIS_URL } : {}),
      ...(process.env.BENCH_POSTGRES_URL ? { DATABASE_URL: process.env.BENCH_POSTGRES_URL } : {}),
    },
    { warn: () => {} },
  );
  const demo = await startDemo(config, {
    host: '127.0.0.1',
    log: () => {},
    redisPrefix,
    postgresTablePrefix: tablePrefix,
  });
  return {
    url: `http://127.0.0.1:${demo.port}`,
    origin: demo.url,
    close: async () => {
      await demo.close();
      await removeStoreData();
    },
  };
}

/** Deletes the Redis keys / PostgreSQL tables this run created (their names carry this run's tag). */
async function removeStoreData() {
  if (store === 'redis') {
    const client = new Redis(process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379');
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${redisPrefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await client.unlink(...keys);
    } while (cursor !== '0');
    await client.quit();
  } else if (store === 'postgres') {
    const pool = new pg.Pool({
      connectionString: process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    });
    const { rows } = await pool.query(
      "SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables WHERE tablename LIKE $1",
      [`${tablePrefix}%`],
    );
    for (const { name } of rows) await pool.query(`DROP TABLE IF EXISTS ${name} CASCADE`);
    await pool.end();
  }
}

async function main() {
  const baseline = target === 'baseline' || target === 'tunedbaseline';
  if (baseline && store !== 'memory') throw new Error('the baseline keeps everything in memory');
  const running = baseline ? await startBaseline() : await startPassgateDemo();
  process.on('message', async (message) => {
    try {
      if (message?.type === 'stats') {
        const cpu = process.cpuUsage();
        process.send({
          type: 'stats',
          cpuMicros: cpu.user + cpu.system,
          systemMicros: cpu.system,
          rss: process.memoryUsage().rss,
          storeCalls: { ...storeCalls },
          gc: { ...gc },
          loopDelayMs: loopDelay.read(),
        });
        loopDelay.reset();
        gc.maxMs = 0;
      } else if (message?.type === 'stop') {
        await running.close();
        process.send({ type: 'stopped' }, () => process.exit(0));
      }
    } catch (error) {
      console.error(`[server ${target}/${store}] ${error?.stack ?? error}`);
      process.exit(1);
    }
  });
  process.on('disconnect', () => {
    running.close().finally(() => process.exit(1));
  });
  process.send({ type: 'ready', url: running.url, origin: running.origin });
}

main().catch((error) => {
  console.error(`[server ${target}/${store}] ${error?.stack ?? error}`);
  process.exit(1);
});
