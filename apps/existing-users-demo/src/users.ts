/**
 * The app's own password accounts, kept where the passkeys are (`PASSGATE_STORE`): in memory, in
 * Redis or in PostgreSQL, through the client the demo backend opened. Passgate never sees these rows;
 * it only learns the user's id, email and name from `identify`.
 */
import { randomUUID } from 'node:crypto';
import type { DemoConnection } from '@passgate/demo-server';
import type { Redis } from 'ioredis';
import type pg from 'pg';

export interface AppUser {
  /** A random UUID: the application's user id that Passgate links passkeys to. */
  id: string;
  /** Lower-cased, trimmed; unique. */
  email: string;
  displayName: string;
  passwordHash: string;
  createdAt: Date;
}

export interface UserStore {
  /** Creates a user; resolves `null` when the email is taken (nothing written then). */
  create(input: { email: string; displayName: string; passwordHash: string }): Promise<AppUser | null>;
  findByEmail(email: string): Promise<AppUser | null>;
  findById(id: string): Promise<AppUser | null>;
}

/** The same email however it was typed (case and surrounding spaces). */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Why an email is refused, or null. At most 64 characters: it is the passkey's `user.name` too. */
export function emailProblem(email: unknown): string | null {
  if (typeof email !== 'string') return 'Enter your email address.';
  const normalized = normalizeEmail(email);
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(normalized)) return 'Enter a valid email address.';
  if ([...normalized].length > 64) return 'Use an email address of at most 64 characters.';
  return null;
}

export function createUserStore(connection: DemoConnection): UserStore {
  switch (connection.kind) {
    case 'memory':
      return memoryUsers();
    case 'redis':
      return redisUsers(connection.client, `${connection.prefix}demo-user:`);
    case 'postgres':
      return postgresUsers(connection.pool, `${connection.tablePrefix}demo_users`);
  }
}

/** Creates what the store needs (the PostgreSQL table); idempotent. */
export async function prepareUserStore(connection: DemoConnection): Promise<void> {
  if (connection.kind !== 'postgres') return;
  const table = quote(`${connection.tablePrefix}demo_users`);
  await connection.pool.query(
    `CREATE TABLE IF NOT EXISTS ${table} (
      id text PRIMARY KEY,
      email text NOT NULL UNIQUE,
      display_name text NOT NULL,
      password_hash text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
  );
}

function newUser(input: { email: string; displayName: string; passwordHash: string }): AppUser {
  return { id: randomUUID(), ...input, email: normalizeEmail(input.email), createdAt: new Date() };
}

function memoryUsers(): UserStore {
  const byId = new Map<string, AppUser>();
  const byEmail = new Map<string, string>();
  return {
    async create(input) {
      const user = newUser(input);
      if (byEmail.has(user.email)) return null;
      byEmail.set(user.email, user.id);
      byId.set(user.id, user);
      return { ...user };
    },
    async findByEmail(email) {
      const id = byEmail.get(normalizeEmail(email));
      return id ? this.findById(id) : null;
    },
    async findById(id) {
      const user = byId.get(id);
      return user ? { ...user } : null;
    },
  };
}

interface StoredUser extends Omit<AppUser, 'createdAt'> {
  createdAt: string;
}

function redisUsers(client: Redis, prefix: string): UserStore {
  const userKey = (id: string) => `${prefix}id:${id}`;
  const emailKey = (email: string) => `${prefix}email:${email}`;
  const parse = (raw: string | null): AppUser | null => {
    if (raw === null) return null;
    const stored = JSON.parse(raw) as StoredUser;
    return { ...stored, createdAt: new Date(stored.createdAt) };
  };
  return {
    async create(input) {
      const user = newUser(input);
      const json = JSON.stringify({ ...user, createdAt: user.createdAt.toISOString() });
      // One script, so the email claim and the user are written together or not at all.
      const created = (await client.eval(
        `if redis.call('SET', KEYS[1], ARGV[1], 'NX') then
           redis.call('SET', KEYS[2], ARGV[2])
           return 1
         end
         return 0`,
        2,
        emailKey(user.email),
        userKey(user.id),
        user.id,
        json,
      )) as number;
      return created === 1 ? user : null;
    },
    async findByEmail(email) {
      const id = await client.get(emailKey(normalizeEmail(email)));
      return id ? this.findById(id) : null;
    },
    async findById(id) {
      return parse(await client.get(userKey(id)));
    },
  };
}

interface UserRow {
  id: string;
  email: string;
  display_name: string;
  password_hash: string;
  created_at: Date;
}

function postgresUsers(pool: pg.Pool, tableName: string): UserStore {
  const table = quote(tableName);
  const columns = 'id, email, display_name, password_hash, created_at';
  const toUser = (row: UserRow | undefined): AppUser | null =>
    row
      ? {
          id: row.id,
          email: row.email,
          displayName: row.display_name,
          passwordHash: row.password_hash,
          createdAt: row.created_at,
        }
      : null;
  return {
    async create(input) {
      const user = newUser(input);
      const { rows } = await pool.query<UserRow>(
        `INSERT INTO ${table} (${columns}) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (email) DO NOTHING RETURNING ${columns}`,
        [user.id, user.email, user.displayName, user.passwordHash, user.createdAt],
      );
      return toUser(rows[0]);
    },
    async findByEmail(email) {
      const { rows } = await pool.query<UserRow>(`SELECT ${columns} FROM ${table} WHERE email = $1`, [
        normalizeEmail(email),
      ]);
      return toUser(rows[0]);
    },
    async findById(id) {
      const { rows } = await pool.query<UserRow>(`SELECT ${columns} FROM ${table} WHERE id = $1`, [id]);
      return toUser(rows[0]);
    },
  };
}

function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}
