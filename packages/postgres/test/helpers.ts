import { randomBytes } from 'node:crypto';
import type { Account, StoredCredential } from '@passgate/core';
import pg from 'pg';

export const DATABASE_URL =
  process.env['PASSGATE_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

export function newPool(config: pg.PoolConfig = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 10, ...config });
  pool.on('error', () => {
    // Idle clients dropped by the server (pg_terminate_backend in fault tests).
  });
  return pool;
}

export function randomSchema(label = 't'): string {
  return `pgt_${label}_${randomBytes(6).toString('hex')}`;
}

export async function dropSchema(pool: pg.Pool, schema: string): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

export function b64u(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}

export function account(overrides: Partial<Account> = {}): Account {
  const tag = randomBytes(4).toString('hex');
  return {
    userId: `user-${tag}`,
    userHandle: b64u(32),
    username: `name-${tag}`,
    displayName: `Display ${tag}`,
    createdAt: new Date(Date.UTC(2025, 0, 2, 3, 4, 5, 678)),
    ...overrides,
  };
}

export function credential(userHandle: string, overrides: Partial<StoredCredential> = {}): StoredCredential {
  return {
    id: b64u(16),
    userHandle,
    publicKey: new Uint8Array(randomBytes(77)),
    algorithm: -7,
    counter: 0,
    transports: ['internal', 'hybrid'],
    backupEligible: true,
    backedUp: true,
    aaguid: '00000000-0000-0000-0000-000000000000',
    attestationFormat: 'none',
    nickname: null,
    createdAt: new Date(Date.UTC(2025, 0, 2, 3, 4, 5, 679)),
    lastUsedAt: null,
    ...overrides,
  };
}
