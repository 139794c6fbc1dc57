import { randomBytes } from 'node:crypto';
import { loadDemoConfig, removeDemoData, startDemo } from '@passgate/express-demo';
import { afterAll } from 'vitest';
import { type DemoEnv, describeDemoInBrowser, type StartDemo } from './browser-suite.js';

// The Express demo on the real shared stores: the whole browser suite once on PostgreSQL
// (credentials, accounts, challenges, sessions via connect-pg-simple) and once on Redis (challenges,
// credentials, sessions, rate limits). Each started demo gets its own random table or key prefix (the
// suite expects every start to be a fresh, empty demo); afterwards every table and key under the run's
// prefix is removed. CI (.ci/run) makes sure both services answer before the tests run.
//
// Every demo creates its own `<prefix>demo_sessions` table at start (several prefixes share one schema
// here, which is what connect-pg-simple's own table creation could not do).

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const run = randomBytes(4).toString('hex');
/** Table prefix of this run: every demo's tables (incl. `<prefix>demo_sessions`) start with it. */
const tablePrefix = `e2e_${run}_`;
/** Key prefix of this run: every demo's keys (incl. `<prefix>sess:`) start with it. */
const redisPrefix = `passgate-e2e-${run}:`;

function startOn(store: 'postgres' | 'redis'): StartDemo {
  let count = 0;
  return async (env: DemoEnv = {}) => {
    count += 1;
    const config = loadDemoConfig(
      {
        PORT: '0',
        SESSION_SECRET: 'e2e-session-secret-not-for-production',
        PASSGATE_STORE: store,
        REDIS_URL,
        DATABASE_URL,
        ...env,
      },
      { warn: () => {} },
    );
    let isolation: { postgresTablePrefix: string } | { redisPrefix: string };
    if (store === 'postgres') {
      isolation = { postgresTablePrefix: `${tablePrefix}${count}_` };
    } else {
      isolation = { redisPrefix: `${redisPrefix}${count}:` };
    }
    const demo = await startDemo(config, { log: () => {}, ...isolation });
    return { url: demo.url, close: demo.close };
  };
}

describeDemoInBrowser('express-postgres', startOn('postgres'));
describeDemoInBrowser('express-redis', startOn('redis'));

// Runs after both suites have closed their demos: leave nothing behind in the shared services.
afterAll(async () => {
  await removeDemoData({ redisUrl: REDIS_URL, redisPrefix, databaseUrl: DATABASE_URL, tablePrefix });
});
