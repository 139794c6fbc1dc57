import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { isPassgateError } from '@passgate/core';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStores, migrate } from '../src/index.js';
import { account, b64u, credential, DATABASE_URL, dropSchema, newPool, randomSchema } from './helpers.js';

/**
 * A database that stops answering mid-connection (a network partition, a frozen host): nothing is
 * refused or reset, the bytes just stop. `statement_timeout` is enforced by the server, which never
 * hears from us, and `connectionTimeoutMillis` only covers connecting; only the client-side
 * `query_timeout` bounds a query on an already open connection.
 */

const admin = newPool();
const schema = randomSchema('partition');
const target = new URL(DATABASE_URL);

/** A TCP proxy to PostgreSQL whose traffic can be frozen in both directions (connections stay open). */
interface FreezingProxy {
  port: number;
  connections: number;
  open: Set<Socket>;
  frozen: boolean;
  close(): Promise<void>;
}

let proxy: FreezingProxy;
let server: Server;

beforeAll(async () => {
  await migrate({ pool: admin, schema });
  const state: FreezingProxy = {
    port: 0,
    connections: 0,
    open: new Set(),
    frozen: false,
    close: async () => {
      for (const socket of state.open) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  server = createServer((downstream) => {
    state.connections++;
    const upstream = netConnect(Number(target.port || 5432), target.hostname);
    state.open.add(downstream);
    downstream.on('data', (chunk) => {
      if (!state.frozen) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!state.frozen) downstream.write(chunk);
    });
    for (const socket of [downstream, upstream]) {
      socket.on('error', () => {});
      socket.on('close', () => {
        state.open.delete(downstream);
        downstream.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as { port: number }).port;
  proxy = state;
});

afterAll(async () => {
  await proxy.close();
  await dropSchema(admin, schema);
  await admin.end();
});

function proxiedPool(config: pg.PoolConfig): pg.Pool {
  return newPool({
    connectionString: undefined,
    host: '127.0.0.1',
    port: proxy.port,
    user: decodeURIComponent(target.username) || 'postgres',
    database: target.pathname.slice(1),
    max: 1,
    connectionTimeoutMillis: 500,
    ...config,
  });
}

/**
 * How `promise` settles, how long it took, and whether it settled only after a timer of `boundMs`,
 * started just after it, had fired. The upper bound is that timer rather than the stopwatch: on a
 * loaded machine timers fire late, the client's query_timeout and this one alike, so a call ended by
 * the shorter query_timeout always beats it and only a call that really waits longer misses it.
 */
async function settle(
  promise: Promise<unknown>,
  boundMs = Number.POSITIVE_INFINITY,
): Promise<{ error: unknown; ms: number; late: boolean }> {
  const started = performance.now();
  let late = false;
  const bound = Number.isFinite(boundMs)
    ? setTimeout(() => {
        late = true;
      }, boundMs)
    : undefined;
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  clearTimeout(bound);
  return { error, ms: performance.now() - started, late };
}

/** Unfreezes and drops every proxied connection, so nothing hangs into the next test. */
async function heal(): Promise<void> {
  proxy.frozen = false;
  for (const socket of proxy.open) socket.destroy();
  await new Promise((resolve) => setTimeout(resolve, 50));
}

describe('a database that stops answering mid-connection', () => {
  it('with query_timeout: 500, every kind of call fails with store_unavailable in ~0.5 s and the client is dropped', async () => {
    const pool = proxiedPool({ query_timeout: 500, keepAlive: true });
    try {
      const stores = createPostgresStores({ pool, schema });
      const calls: Record<string, () => Promise<unknown>> = {
        'challenges.consume (one statement)': () => stores.challenges.consume(b64u()),
        'accounts.create (a transaction)': () => {
          const a = account();
          return stores.accounts.create(a, credential(a.userHandle));
        },
        'credentials.delete allowLast: false (a transaction)': () =>
          stores.credentials.delete(b64u(32), b64u(), { allowLast: false }),
      };
      for (const [name, call] of Object.entries(calls)) {
        // One open, idle client through the proxy, then the network goes silent.
        expect(await stores.challenges.put(b64u(), 'warm', 60_000), name).toBe(true);
        expect(pool.idleCount, name).toBe(1);
        const connectionsBefore = proxy.connections;
        proxy.frozen = true;

        const { error, ms, late } = await settle(call(), 950);
        expect(isPassgateError(error, 'store_unavailable'), name).toBe(true);
        expect(((error as Error).cause as Error).message, name).toMatch(/Query read timeout/);
        expect(ms, name).toBeGreaterThanOrEqual(450);
        // One query_timeout, not two: a transaction does not wait for a ROLLBACK behind the dead query.
        expect(late, `${name} settled after a 950 ms timer started after it`).toBe(false);
        // The client whose query went unanswered is destroyed, never handed out again.
        expect(pool.totalCount, name).toBe(0);

        // The network comes back: the next call works, on a new connection.
        await heal();
        expect(await stores.challenges.consume(b64u()), name).toBeNull();
        expect(proxy.connections, name).toBe(connectionsBefore + 1);
      }
    } finally {
      await heal();
      await pool.end();
    }
  });

  it('without query_timeout, statement_timeout does not help: the call is still pending after 1.5 s', async () => {
    const pool = proxiedPool({ statement_timeout: 300 });
    try {
      const stores = createPostgresStores({ pool, schema });
      expect(await stores.challenges.put(b64u(), 'warm', 60_000)).toBe(true);
      proxy.frozen = true;
      let settled = false;
      const pending = settle(stores.challenges.consume(b64u())).finally(() => {
        settled = true;
      });
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(settled).toBe(false);
      // Only cutting the connection ends it (as TCP keepalive eventually would).
      await heal();
      const { error } = await pending;
      expect(isPassgateError(error, 'store_unavailable')).toBe(true);
    } finally {
      await heal();
      await pool.end();
    }
  });
});
