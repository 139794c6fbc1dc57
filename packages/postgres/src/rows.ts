import type { Account, AuthenticatorTransport, StoredCredential } from '@passgate/core';
import { encodeId, fromBytea } from './sql.js';

export interface CredentialRow {
  id: Buffer;
  user_handle: Buffer;
  public_key: Buffer;
  algorithm: number;
  /** `bigint`: node-postgres returns it as a string. */
  counter: string | number;
  transports: string[] | null;
  backup_eligible: boolean;
  backed_up: boolean;
  aaguid: string;
  attestation_format: string;
  nickname: string | null;
  created_at: Date;
  last_used_at: Date | null;
}

export interface AccountRow {
  user_id: string;
  user_handle: Buffer;
  username: string;
  display_name: string;
  created_at: Date;
}

export const CREDENTIAL_COLUMNS =
  'id, user_handle, public_key, algorithm, counter, transports, backup_eligible, backed_up, aaguid, attestation_format, nickname, created_at, last_used_at';

export const ACCOUNT_COLUMNS = 'user_id, user_handle, username, display_name, created_at';

export function credentialFromRow(row: CredentialRow): StoredCredential {
  return {
    id: encodeId(row.id),
    userHandle: encodeId(row.user_handle),
    publicKey: fromBytea(row.public_key),
    algorithm: Number(row.algorithm),
    counter: Number(row.counter),
    transports: [...(row.transports ?? [])] as AuthenticatorTransport[],
    backupEligible: row.backup_eligible,
    backedUp: row.backed_up,
    aaguid: row.aaguid,
    attestationFormat: row.attestation_format,
    nickname: row.nickname,
    createdAt: new Date(row.created_at.getTime()),
    lastUsedAt: row.last_used_at === null ? null : new Date(row.last_used_at.getTime()),
  };
}

export function accountFromRow(row: AccountRow): Account {
  return {
    userId: row.user_id,
    userHandle: encodeId(row.user_handle),
    username: row.username,
    displayName: row.display_name,
    createdAt: new Date(row.created_at.getTime()),
  };
}
