import { type ChildProcess, spawn } from 'node:child_process';
import { isPassgateError, type PassgateStores } from '@passgate/core';
import { makeCredential, makeSignUp } from '@passgate/testing';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
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

/**
 * Runs every operation at once; resolves each one's outcome, how long it took, and whether it settled
 * only after a timer of `boundMs`, started once all of them were, had fired. The bound is that timer
 * rather than a stopwatch: on a loaded machine every timer fires late, the adapter's deadline and
 * this one alike, so only an operation that really waits past its bound misses it (an operation
 * ended by a shorter deadline set before the timer always settles before it fires).
 */
async function timeAll(stores: PassgateStores, boundMs: number) {
  let boundPassed = false;
  const started = performance.now();
  const runs = Object.entries(everyOperation(stores)).map(async ([name, run]) => {
    const error = await run().then(
      () => undefined,
      (e: unknown) => e,
    );
    return { name, error, ms: performance.now() - started, late: boundPassed };
  });
  const bound = setTimeout(() => {
    boundPassed = true;
  }, boundMs);
  try {
    return await Promise.all(runs);
  } finally {
    clearTimeout(bound);
  }
}

async function expectAllUnavailable(stores: PassgateStores, boundMs: number) {
  const results = await timeAll(stores, boundMs);
  for (const { name, error, late } of results) {
    expect(isPassgateError(error, 'store_unavailable'), name).toBe(true);
    expect(late, `${name} settled after a ${boundMs} ms timer started after it`).toBe(false);
  }
  return results;
}

/** Every operation, started at once, fails with store_unavailable exactly when `deadlineMs` of the (fake) clock have passed. */
async function expectAllUnavailableAtDeadline(stores: PassgateStores, deadlineMs: number) {
  const settled = new Map<string, unknown>();
  const operations = Object.entries(everyOperation(stores));
  for (const [name, run] of operations) {
    run().then(
      () => settled.set(name, undefined),
      (e: unknown) => settled.set(name, e),
    );
  }
  await vi.advanceTimersByTimeAsync(deadlineMs - 1);
  await nextTurn();
  expect([...settled.keys()], `settled before ${deadlineMs} ms`).toEqual([]);
  await vi.advanceTimersByTimeAsync(1);
  await nextTurn();
  expect([...settled.keys()].sort()).toEqual(operations.map(([name]) => name).sort());
  for (const [name, error] of settled) {
    expect(isPassgateError(error, 'store_unavailable'), name).toBe(true);
    expect((error as Error).cause, name).toBeInstanceOf(RedisCommandTimeoutError);
  }
}

/** One turn of the event loop (setImmediate is never faked here), so that every settled promise's handlers have run. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Fakes the timers (only setTimeout and clearTimeout), so that the adapter's deadlines fire when the
 * test moves the clock and never because the machine is slow: a call Redis answers always succeeds.
 * Only where the client is connected and needs no timer of its own (ioredis reconnects on timers).
 */
function fakeTimers(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
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
      const results = await expectAllUnavailable(stores, 300 + 700);
      for (const { ms } of results) expect(ms).toBeGreaterThanOrEqual(290);
      for (const { name, error } of results) {
        expect((error as Error).cause, name).toBeInstanceOf(RedisCommandTimeoutError);
      }
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
      let boundPassed = false;
      const error = stores.credentials.findById('x').catch((e: unknown) => e);
      // The upper bound as a timer started after the call (see timeAll): late on a loaded machine
      // exactly as the adapter's own deadline is.
      const bound = setTimeout(() => {
        boundPassed = true;
      }, 1900);
      try {
        expect(isPassgateError(await error, 'store_unavailable')).toBe(true);
        expect(boundPassed, 'settled after a 1900 ms timer started after it').toBe(false);
      } finally {
        clearTimeout(bound);
      }
      expect(performance.now() - started).toBeGreaterThanOrEqual(990);
      expect(((await error) as Error).cause).toMatchObject({ timeoutMs: 1000 });
    } finally {
      client.disconnect();
    }
  });

  it('with enableOfflineQueue: false it fails at once', async () => {
    const client = new Redis({ host: '127.0.0.1', port: 1, enableOfflineQueue: false, ...NO_RESEND });
    client.on('error', () => {});
    try {
      const stores = createRedisStores({ client, prefix, commandTimeoutMs: 1000 });
      await expectAllUnavailable(stores, 500);
    } finally {
      client.disconnect();
    }
  });

  it('a client the application closed answers store_unavailable, not a hang', async () => {
    const client = connect();
    await client.quit();
    const stores = createRedisStores({ client, prefix, commandTimeoutMs: 300 });
    await expectAllUnavailable(stores, 300 + 700);
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
      await Promise.all([client.ping(), admin.ping()]);
      // The clock is fake from here on: both rounds below fit in the 3 s pause however slow the
      // machine, and no call Redis answers can miss its 300 ms deadline.
      fakeTimers();
      try {
        const stores = createRedisStores({ client, prefix, commandTimeoutMs: 300 });
        await stores.challenges.put('before', 'v', 60_000);
        expect(await stores.challenges.consume('before')).toBe('v');

        await admin.call('CLIENT', 'PAUSE', '3000', 'ALL');
        await expectAllUnavailableAtDeadline(stores, 300);
        const unpause = admin.call('CLIENT', 'UNPAUSE');
        // Still paused: a second round fails the same way (no stuck state in between).
        await expectAllUnavailableAtDeadline(stores, 300);
        expect(await unpause).toBe('OK');

        // Back: the next calls simply work.
        const { account, credential } = makeSignUp();
        await stores.accounts.create(account, credential);
        expect(await stores.accounts.findByUsername(account.username)).toEqual(account);
        expect(await stores.challenges.put('after', 'w', 60_000)).toBe(true);
        expect(await stores.challenges.consume('after')).toBe('w');
      } finally {
        vi.useRealTimers();
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
    await client.ping();
    try {
      const stores = createRedisStores({ client, prefix, commandTimeoutMs: 300 });
      // Connected: with a fake clock no deadline can fail this call (ioredis needs no timer here).
      fakeTimers();
      try {
        expect(await stores.challenges.put('r', 'v', 60_000)).toBe(true);
      } finally {
        vi.useRealTimers();
      }
      // Real timers from here: ioredis reconnects on them.
      await stopServer(first);
      await expectAllUnavailable(stores, 300 + 700);
      started.push(await startServer(first.port));
      // ioredis retries at most 2 s apart; counted in tries rather than milliseconds, which a loaded
      // machine stretches.
      let ok = false;
      for (let tries = 0; !ok && tries < 100; tries++) {
        ok = await stores.challenges.put('r2', 'v', 60_000).then(
          () => true,
          () => false,
        );
        if (!ok) await sleep(100);
      }
      expect(ok).toBe(true);
      fakeTimers();
      try {
        expect(await stores.challenges.consume('r2')).toBe('v');
      } finally {
        vi.useRealTimers();
      }
    } finally {
      client.disconnect();
    }
  });
});
