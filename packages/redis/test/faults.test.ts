import { type ChildProcess, spawn } from 'node:child_process';
import { isPassgateError, type PassgateStores } from '@passgate/core';
import { makeCredential, makeSignUp } from '@passgate/testing';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisStores, RedisCommandTimeoutError } from '../src/index.js';
import {
  connect,
  findRedisServer,
  freePort,
  NO_RESEND,
  randomPrefix,
  sleep,
  waitForPing,
} from './helpers.js';

const prefix = randomPrefix('faults');

/** One call of every store method, so each test can check all of them. */
function everyOperation(stores: PassgateStores): Record<string, () => Promise<unknown>> {
  const { account, credential } = makeSignUp();
  return {
    'challenges.put': () => stores.challenges.put('c', 'v', 1000),
    'challenges.consume': () => stores.challenges.consume('c'),
    'credentials.create': () => stores.credentials.create(makeCredential()),
    'credentials.findById': () => stores.credentials.findById('x'),
    'credentials.listByUserHandle': () => stores.credentials.listByUserHandle('h'),
    'credentials.updateAfterSignIn': () =>
      stores.credentials.updateAfterSignIn({
        id: 'x',
        expectedCounter: 1,
        counter: 2,
        backedUp: false,
        lastUsedAt: new Date(),
      }),
    'credentials.rename': () => stores.credentials.rename('h', 'x', 'n'),
    'credentials.delete': () => stores.credentials.delete('h', 'x', { allowLast: false }),
    'accounts.findByUserHandle': () => stores.accounts.findByUserHandle('h'),
    'accounts.findByUserId': () => stores.accounts.findByUserId('u'),
    'accounts.findByUsername': () => stores.accounts.findByUsername('n'),
    'accounts.create': () => stores.accounts.create(account, credential),
  };
}

/** Runs every operation at once; resolves each one's outcome and how long it took. */
async function timeAll(stores: PassgateStores) {
  return Promise.all(
    Object.entries(everyOperation(stores)).map(async ([name, run]) => {
      const started = performance.now();
      const error = await run().then(
        () => undefined,
        (e: unknown) => e,
      );
      return { name, error, ms: performance.now() - started };
    }),
  );
}

function expectAllUnavailable(results: Awaited<ReturnType<typeof timeAll>>, maxMs: number) {
  for (const { name, error, ms } of results) {
    expect(isPassgateError(error, 'store_unavailable'), name).toBe(true);
    expect(ms, name).toBeLessThan(maxMs);
  }
}

describe('Redis unreachable (closed port, offline queue on, retries on)', () => {
  it('every operation rejects with store_unavailable within commandTimeoutMs (300 ms)', async () => {
    const client = new Redis({
      host: '127.0.0.1',
      port: 1,
      enableOfflineQueue: true,
      maxRetriesPerRequest: null, // would wait forever without our own timer
      ...NO_RESEND,
    });
    client.on('error', () => {}); // connection errors are expected here
    try {
      const stores = createRedisStores({ client, prefix, commandTimeoutMs: 300 });
      const results = await timeAll(stores);
      expectAllUnavailable(results, 300 + 700);
      for (const { ms } of results) expect(ms).toBeGreaterThanOrEqual(290);
      const first = results[0]!.error as Error;
      expect(first.cause).toBeInstanceOf(RedisCommandTimeoutError);
    } finally {
      client.disconnect();
    }
  });

  it('the default timeout is 1000 ms', async () => {
    const client = new Redis({ host: '127.0.0.1', port: 1, enableOfflineQueue: true, ...NO_RESEND });
    client.on('error', () => {});
    try {
      const stores = createRedisStores({ client, prefix });
      const started = performance.now();
      const error = await stores.credentials.findById('x').catch((e: unknown) => e);
      const elapsed = performance.now() - started;
      expect(isPassgateError(error, 'store_unavailable')).toBe(true);
      expect(elapsed).toBeGreaterThanOrEqual(990);
      expect(elapsed).toBeLessThan(1900);
    } finally {
      client.disconnect();
    }
  });

  it('with enableOfflineQueue: false it fails at once', async () => {
    const client = new Redis({ host: '127.0.0.1', port: 1, enableOfflineQueue: false, ...NO_RESEND });
    client.on('error', () => {});
    try {
      const stores = createRedisStores({ client, prefix, commandTimeoutMs: 1000 });
      expectAllUnavailable(await timeAll(stores), 500);
    } finally {
      client.disconnect();
    }
  });

  it('a client the application closed answers store_unavailable, not a hang', async () => {
    const client = connect();
    await client.quit();
    const stores = createRedisStores({ client, prefix, commandTimeoutMs: 300 });
    expectAllUnavailable(await timeAll(stores), 300 + 700);
  });
});

/** A private `redis-server` on a free port, so freezing or restarting it touches no other test file. */
interface PrivateServer {
  port: number;
  process: ChildProcess;
}

const redisServer = findRedisServer();

async function startServer(port: number): Promise<PrivateServer> {
  if (!redisServer) throw new Error('redis-server is not installed');
  const child = spawn(
    redisServer,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  try {
    await waitForPing(port);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return { port, process: child };
}

async function stopServer(server: PrivateServer): Promise<void> {
  const { process: child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/**
 * `CLIENT PAUSE ... ALL` freezes every client of the server (in Redis 7.0 even `CLIENT UNPAUSE`
 * waits for the pause to end), and a restart drops every connection, so each test here starts its
 * own `redis-server` on a free port and never touches the shared Redis. Without the binary they are
 * skipped (never run against the shared server); CI installs Redis with its `redis-server`, as does
 * the development machine.
 */
describe('Redis slow (CLIENT PAUSE 3000 ALL), then back', () => {
  const started: PrivateServer[] = [];

  afterEach(async () => {
    for (const server of started.splice(0)) await stopServer(server);
  });

  it.skipIf(!redisServer)(
    'rejects within 300 ms while paused and recovers by itself after CLIENT UNPAUSE',
    async () => {
      const server = await startServer(await freePort());
      started.push(server);
      const client = new Redis({ port: server.port, host: '127.0.0.1', ...NO_RESEND });
      const admin = new Redis({ port: server.port, host: '127.0.0.1' });
      try {
        const stores = createRedisStores({ client, prefix, commandTimeoutMs: 300 });
        await stores.challenges.put('before', 'v', 60_000);
        expect(await stores.challenges.consume('before')).toBe('v');

        await admin.call('CLIENT', 'PAUSE', '3000', 'ALL');
        const pausedAt = performance.now();
        expectAllUnavailable(await timeAll(stores), 300 + 700);
        const unpause = admin.call('CLIENT', 'UNPAUSE');
        // Still paused: a second round fails the same way (no stuck state in between).
        expectAllUnavailable(await timeAll(stores), 300 + 700);
        await unpause;
        expect(performance.now() - pausedAt).toBeLessThan(4500);

        // Back: the next calls simply work.
        const { account, credential } = makeSignUp();
        await stores.accounts.create(account, credential);
        expect(await stores.accounts.findByUsername(account.username)).toEqual(account);
        expect(await stores.challenges.put('after', 'w', 60_000)).toBe(true);
        expect(await stores.challenges.consume('after')).toBe('w');
      } finally {
        client.disconnect();
        admin.disconnect();
      }
    },
  );

  it.skipIf(!redisServer)('recovers by itself after a Redis restart', async () => {
    const first = await startServer(await freePort());
    started.push(first);
    const client = new Redis({ port: first.port, host: '127.0.0.1', ...NO_RESEND });
    client.on('error', () => {});
    try {
      const stores = createRedisStores({ client, prefix, commandTimeoutMs: 300 });
      expect(await stores.challenges.put('r', 'v', 60_000)).toBe(true);
      await stopServer(first);
      expectAllUnavailable(await timeAll(stores), 300 + 700);
      started.push(await startServer(first.port));
      const restartedAt = performance.now();
      let ok = false;
      while (!ok && performance.now() - restartedAt < 5000) {
        ok = await stores.challenges.put('r2', 'v', 60_000).then(
          () => true,
          () => false,
        );
        if (!ok) await sleep(100);
      }
      expect(ok).toBe(true);
      expect(await stores.challenges.consume('r2')).toBe('v');
    } finally {
      client.disconnect();
    }
  });
});
