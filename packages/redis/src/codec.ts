import type { Account, AuthenticatorTransport, StoredCredential } from '@passgate/core';

/**
 * How records are laid out inside Redis hashes. Bytes are base64 strings, `Date`s are integer
 * milliseconds since the epoch, booleans are `'1'`/`'0'`, transports a JSON array. A `null`
 * nickname or `lastUsedAt` is an absent field.
 */

export function credentialToFields(credential: StoredCredential): string[] {
  const fields = [
    'id',
    credential.id,
    'userHandle',
    credential.userHandle,
    'publicKey',
    Buffer.from(
      credential.publicKey.buffer,
      credential.publicKey.byteOffset,
      credential.publicKey.byteLength,
    ).toString('base64'),
    'algorithm',
    String(credential.algorithm),
    'counter',
    String(credential.counter),
    'transports',
    JSON.stringify(credential.transports),
    'backupEligible',
    bool(credential.backupEligible),
    'backedUp',
    bool(credential.backedUp),
    'aaguid',
    credential.aaguid,
    'attestationFormat',
    credential.attestationFormat,
    'createdAt',
    String(ms(credential.createdAt)),
  ];
  if (credential.nickname !== null) fields.push('nickname', credential.nickname);
  if (credential.lastUsedAt !== null) fields.push('lastUsedAt', String(ms(credential.lastUsedAt)));
  return fields;
}

export function accountToFields(account: Account): string[] {
  return [
    'userId',
    account.userId,
    'userHandle',
    account.userHandle,
    'username',
    account.username,
    'displayName',
    account.displayName,
    'createdAt',
    String(ms(account.createdAt)),
  ];
}

/** A credential from an `HGETALL` reply (object or flat array), or `null` when the hash is missing. */
export function credentialFromHash(hash: Record<string, string>): StoredCredential | null {
  const id = hash['id'];
  const userHandle = hash['userHandle'];
  if (id === undefined || userHandle === undefined) return null;
  const nickname = hash['nickname'];
  const lastUsedAt = hash['lastUsedAt'];
  return {
    id,
    userHandle,
    publicKey: new Uint8Array(Buffer.from(required(hash, 'publicKey'), 'base64')),
    algorithm: Number(required(hash, 'algorithm')),
    counter: Number(required(hash, 'counter')),
    transports: JSON.parse(required(hash, 'transports')) as AuthenticatorTransport[],
    backupEligible: required(hash, 'backupEligible') === '1',
    backedUp: required(hash, 'backedUp') === '1',
    aaguid: required(hash, 'aaguid'),
    attestationFormat: required(hash, 'attestationFormat'),
    nickname: nickname ?? null,
    createdAt: new Date(Number(required(hash, 'createdAt'))),
    lastUsedAt: lastUsedAt === undefined ? null : new Date(Number(lastUsedAt)),
  };
}

export function accountFromHash(hash: Record<string, string>): Account | null {
  const userHandle = hash['userHandle'];
  if (userHandle === undefined) return null;
  return {
    userId: required(hash, 'userId'),
    userHandle,
    username: required(hash, 'username'),
    displayName: required(hash, 'displayName'),
    createdAt: new Date(Number(required(hash, 'createdAt'))),
  };
}

/** `HGETALL` as a script returns it (a flat field/value array) to an object. */
export function pairsToHash(reply: unknown): Record<string, string> {
  const hash: Record<string, string> = {};
  if (!Array.isArray(reply)) return hash;
  for (let i = 0; i + 1 < reply.length; i += 2) {
    hash[String(reply[i])] = String(reply[i + 1]);
  }
  return hash;
}

export function ms(date: Date): number {
  const value = date.getTime();
  if (!Number.isFinite(value)) throw new RangeError('invalid Date');
  return value;
}

export function bool(value: boolean): string {
  return value ? '1' : '0';
}

function required(hash: Record<string, string>, field: string): string {
  const value = hash[field];
  if (value === undefined) throw new Error(`stored record is missing field ${field}`);
  return value;
}

/** The repositories' listing order: `createdAt`, then id in code-unit order. */
export function oldestFirst(a: StoredCredential, b: StoredCredential): number {
  return a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
