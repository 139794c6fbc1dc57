import { randomBytes } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';

export const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** A prefix no other test file (or run) shares, so files can run in parallel on one Redis. */
export function randomPrefix(label: string): string {
  return `pgtest:${label}:${randomBytes(6).toString('hex')}:`;
}

export function connect(options: RedisOptions = {}): Redis {
  return new Redis(REDIS_URL, { lazyConnect: false, ...options });
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
