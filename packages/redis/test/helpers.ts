// The Redis tests' helpers. apps/express-demo's tests use some of them too (the private
// redis-server's start, the round-trip counter), so that each is written once.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';
import { afterAll } from 'vitest';

export const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** A prefix no other test file (or run) shares, so files can run in parallel on one Redis. */
export function randomPrefix(label: string): string {
  return `pgtest:${label}:${randomBytes(6).toString('hex')}:`;
}

/**
 * The settings `createRedisStores` requires of every client: no re-sending of unanswered commands
 * after a reconnect (a write Redis already ran would run twice).
 */
export const NO_RESEND = { autoResendUnfulfilledCommands: false } as const;

export function connect(options: RedisOptions = {}): Redis {
  return new Redis(REDIS_URL, { lazyConnect: false, ...NO_RESEND, ...options });
}

/**
 * A test file's own prefix and connection to the shared Redis. The client is created at once (so
 * the file can name it at its top level); after the file's last test every key under the prefix is
 * deleted and the client disconnected. Call it at the top level of the test file.
 */
export function redisForFile(label: string): { prefix: string; client: Redis } {
  const prefix = randomPrefix(label);
  const client = connect();
  afterAll(async () => {
    await deleteKeys(client, prefix);
    client.disconnect();
  });
  return { prefix, client };
}

/** Every key under `prefix`, found with SCAN (never KEYS). */
export async function scanKeys(client: Redis, prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found;
}

/** Deletes every key under `prefix` (SCAN + UNLINK in batches). */
export async function deleteKeys(client: Redis, prefix: string): Promise<void> {
  const keys = await scanKeys(client, prefix);
  for (let i = 0; i < keys.length; i += 500) {
    await client.unlink(...keys.slice(i, i + 500));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export async function waitForPing(port: number): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < 5000) {
    const probe = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    probe.on('error', () => {});
    try {
      await probe.connect();
      if ((await probe.ping()) === 'PONG') return;
    } catch {
      await sleep(50);
    } finally {
      probe.disconnect();
    }
  }
  throw new Error(`redis-server on port ${port} did not start`);
}

/**
 * `client` wrapped so that each round trip to Redis is recorded in `trips` (the command's name): a
 * builtin command sent on its own (or one of `extraCommands`, commands a library defines on the
 * client, as rate-limiter-flexible's `rlflxIncr`), a pipeline's or MULTI's `exec` (as `pipeline` or
 * `multi`). A script is recorded as `evalsha` whether it went as EVALSHA or EVAL. An EVALSHA answered
 * NOSCRIPT is followed by the script's EVAL (another test file's SCRIPT FLUSH on this shared Redis
 * empties the script cache), so the miss is taken out again: one script run, one round trip. Counted
 * without MONITOR, so files running in parallel on one Redis do not count each other's commands.
 */
export function countingRedis(client: Redis, trips: string[], extraCommands: readonly string[] = []): Redis {
  const commands = new Set([...client.getBuiltinCommands(), ...extraCommands]);
  return new Proxy(client, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      if (property === 'pipeline' || property === 'multi') {
        return (...args: unknown[]) => {
          const batch = value.apply(target, args);
          const exec = batch.exec.bind(batch);
          batch.exec = (...execArgs: unknown[]) => {
            trips.push(property);
            return exec(...execArgs);
          };
          return batch;
        };
      }
      if (!commands.has(property)) return value.bind(target);
      return async (...args: unknown[]) => {
        const at = trips.push(property === 'eval' ? 'evalsha' : property) - 1;
        try {
          return await value.apply(target, args);
        } catch (error) {
          if (property === 'evalsha' && String((error as Error)?.message).startsWith('NOSCRIPT')) {
            trips.splice(at, 1);
          }
          throw error;
        }
      };
    },
  });
}

/** The `redis-server` binary, when installed on this machine (CI installs Redis the same way). */
export function findRedisServer(): string | undefined {
  return ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));
}
