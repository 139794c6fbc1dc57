import type { Account, AuthenticatorTransport, StoredCredential } from '@passgate/core';
import type { Row } from './db.js';

export const CREDENTIAL_COLUMNS =
  'id, user_handle, public_key, algorithm, counter, transports, backup_eligible, backed_up, aaguid, attestation_format, nickname, created_at, last_used_at';
export const ACCOUNT_COLUMNS = 'user_handle, user_id, username, display_name, created_at';

// Each value is converted whatever the pool's type casting (numbers may come back as strings,
// BOOLEAN as 0/1, VARBINARY as a Buffer): every returned object is fresh and of the declared types.
/** A text column's value, whether the driver gives a string or (VARBINARY) a Buffer. */
export const text = (v: unknown): string => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v));
const num = (v: unknown): number => Number(v);
const bool = (v: unknown): boolean => Number(v) === 1 || v === true;

export function credentialFromRow(row: Row): StoredCredential {
  return {
    id: text(row.id),
    userHandle: text(row.user_handle),
    publicKey: new Uint8Array(row.public_key as Buffer),
    algorithm: num(row.algorithm),
    counter: num(row.counter),
    transports: JSON.parse(text(row.transports)) as AuthenticatorTransport[],
    backupEligible: bool(row.backup_eligible),
    backedUp: bool(row.backed_up),
    aaguid: text(row.aaguid),
    attestationFormat: text(row.attestation_format),
    nickname: row.nickname === null ? null : text(row.nickname),
    createdAt: new Date(num(row.created_at)),
    lastUsedAt: row.last_used_at === null ? null : new Date(num(row.last_used_at)),
  };
}

/** The `INSERT` values of a credential, in `CREDENTIAL_COLUMNS` order (copies: nothing kept by reference). */
export function credentialValues(c: StoredCredential): unknown[] {
  return [
    c.id,
    c.userHandle,
    Buffer.from(c.publicKey),
    c.algorithm,
    c.counter,
    JSON.stringify(c.transports),
    c.backupEligible,
    c.backedUp,
    c.aaguid,
    c.attestationFormat,
    c.nickname,
    c.createdAt.getTime(),
    c.lastUsedAt === null ? null : c.lastUsedAt.getTime(),
  ];
}

export function accountFromRow(row: Row): Account {
  return {
    userHandle: text(row.user_handle),
    userId: text(row.user_id),
    username: text(row.username),
    displayName: text(row.display_name),
    createdAt: new Date(num(row.created_at)),
  };
}

/** The `INSERT` values of an account, in `ACCOUNT_COLUMNS` order; names as UTF-8 bytes for the `VARBINARY` columns. */
export function accountValues(a: Account): unknown[] {
  return [
    a.userHandle,
    Buffer.from(a.userId, 'utf8'),
    Buffer.from(a.username, 'utf8'),
    a.displayName,
    a.createdAt.getTime(),
  ];
}
