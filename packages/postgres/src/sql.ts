/** Identifier validation, quoting and the qualified names of every table and constraint. */
import { decodeBase64Url, encodeBase64Url } from '@passgate/core';

const SCHEMA_RE = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const PREFIX_RE = /^(?:[a-z_][a-z0-9_]{0,31})?$/;

/** Default schema: `public`. */
export const DEFAULT_SCHEMA = 'public';
/** Default table prefix: `passgate_`. */
export const DEFAULT_TABLE_PREFIX = 'passgate_';

/** Where the tables live. Shared by `createPostgresStores`, `migrate` and `migrationSql`. */
export interface PostgresLocationOptions {
  /**
   * Schema that holds the tables: letters, digits and `_`, not starting with a digit or `pg_`, at most
   * 63 characters (quoted, so case is kept). Created by `migrate()` if missing. Default `public`.
   */
  schema?: string;
  /**
   * Prefix of every table, index and constraint name: lower-case letters, digits and `_`, not starting
   * with a digit, at most 32 characters; may be empty. Default `passgate_`.
   */
  tablePrefix?: string;
}

/** Quotes an identifier that has already been validated. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Every name the adapter uses, resolved and quoted once. */
export interface SqlNames {
  schema: string;
  prefix: string;
  /** Quoted schema. */
  schemaQ: string;
  /** Schema-qualified, quoted table names. */
  accounts: string;
  credentials: string;
  challenges: string;
  migrations: string;
  /** Unquoted constraint and index names (for error mapping and DDL). */
  c: {
    accountsPkey: string;
    accountsUserHandleKey: string;
    accountsUsernameKey: string;
    credentialsPkey: string;
    credentialsUserHandleFkey: string;
    credentialsUserHandleIdx: string;
    challengesPkey: string;
    challengesExpiresAtIdx: string;
    migrationsPkey: string;
  };
}

export function resolveNames(options: PostgresLocationOptions = {}): SqlNames {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  const prefix = options.tablePrefix ?? DEFAULT_TABLE_PREFIX;
  if (typeof schema !== 'string' || !SCHEMA_RE.test(schema) || schema.startsWith('pg_')) {
    throw new TypeError(
      'passgate: schema must be 1..63 letters, digits or underscores, not starting with a digit or pg_ (reserved)',
    );
  }
  if (typeof prefix !== 'string' || !PREFIX_RE.test(prefix)) {
    throw new TypeError(
      'passgate: tablePrefix must be 0..32 lower-case letters, digits or underscores, not starting with a digit',
    );
  }
  const schemaQ = quoteIdent(schema);
  const table = (name: string) => `${schemaQ}.${quoteIdent(prefix + name)}`;
  return {
    schema,
    prefix,
    schemaQ,
    accounts: table('accounts'),
    credentials: table('credentials'),
    challenges: table('challenges'),
    migrations: table('migrations'),
    c: {
      accountsPkey: `${prefix}accounts_pkey`,
      accountsUserHandleKey: `${prefix}accounts_user_handle_key`,
      accountsUsernameKey: `${prefix}accounts_username_key`,
      credentialsPkey: `${prefix}credentials_pkey`,
      credentialsUserHandleFkey: `${prefix}credentials_user_handle_fkey`,
      credentialsUserHandleIdx: `${prefix}credentials_user_handle_idx`,
      challengesPkey: `${prefix}challenges_pkey`,
      challengesExpiresAtIdx: `${prefix}challenges_expires_at_idx`,
      migrationsPkey: `${prefix}migrations_pkey`,
    },
  };
}

/**
 * Decodes a base64url identifier (no padding) to the bytes stored in a `bytea` column, or `null`
 * when the string is not canonical base64url (then no stored row can match it, since every stored
 * value is encoded back to exactly its canonical form).
 */
export function decodeId(value: string): Buffer | null {
  const bytes = typeof value === 'string' ? decodeBase64Url(value) : null;
  return bytes === null ? null : toBytea(bytes);
}

/** Like `decodeId`, for values being written: a non-canonical identifier is a caller bug. */
export function decodeIdForWrite(value: string, field: string): Buffer {
  const bytes = decodeId(value);
  if (bytes === null || bytes.length === 0) {
    throw new TypeError(`${field} must be non-empty canonical base64url without padding`);
  }
  return bytes;
}

export const encodeId: (bytes: Uint8Array) => string = encodeBase64Url;

/** A `Buffer` view of the caller's bytes, for a `bytea` parameter. */
export function toBytea(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A fresh, plain `Uint8Array` copy of a `bytea` column value. */
export function fromBytea(value: Uint8Array): Uint8Array {
  return new Uint8Array(value);
}
