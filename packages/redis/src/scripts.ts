import { createHash } from 'node:crypto';
import type { RedisClient } from './client.js';

/**
 * A Lua script run with `EVALSHA`, falling back to `EVAL` (which also puts the script back into
 * the server's script cache) when the server answers `NOSCRIPT`: after a restart, a failover to a
 * replica that never saw it, or `SCRIPT FLUSH`. We do not use `client.defineCommand`, which would
 * add methods to the application's client; `EVAL` (rather than `SCRIPT LOAD`) is the fallback
 * because on a cluster it is routed by key to the node that runs the script.
 *
 * Every key a script touches is passed in `KEYS`, as Redis Cluster requires and so that an ioredis
 * `keyPrefix` on the application's client applies to them, except where a key depends on what the
 * script reads (an account's key on the user handle it holds): such a script builds it from a
 * prefix passed in `ARGV` (`clientKeyPrefix` included), and says so.
 */
export class LuaScript {
  readonly sha: string;
  constructor(
    readonly name: string,
    readonly lua: string,
    /** How many keys each call passes; -1 for a variable number. */
    readonly numberOfKeys: number,
  ) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }

  async run(
    client: RedisClient,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    if (this.numberOfKeys >= 0 && keys.length !== this.numberOfKeys) {
      throw new Error(`script ${this.name} takes ${this.numberOfKeys} keys, got ${keys.length}`);
    }
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return await client.eval(this.lua, keys.length, ...keys, ...args);
    }
  }
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/**
 * Single-use consume for servers without `GETDEL` (Redis < 6.2).
 * KEYS[1] challenge. Returns the value or nil.
 * Not safe to run twice (a second run answers nil), like `GETDEL`: `createRedisStores` refuses a
 * client that would send it again (`autoResendUnfulfilledCommands`).
 */
export const CONSUME = new LuaScript(
  'consume',
  `local v = redis.call('GET', KEYS[1])
if v then redis.call('DEL', KEYS[1]) end
return v`,
  1,
);

/**
 * Credential create: uniqueness of the id, the per-account cap, then the hash and the account's
 * index in one step.
 * KEYS[1] credential hash, KEYS[2] account's credential set.
 * ARGV[1] credential id, ARGV[2] createdAt ms, ARGV[3] user handle, ARGV[4] most credentials the
 * account may hold ('' for no cap), ARGV[5] a token unique to this call (random, made per call),
 * ARGV[6..] hash field/value pairs.
 * Returns 1 when created, 0 when the id exists, -1 when the account is at the cap (nothing written
 * on 0 or -1).
 *
 * Safe to run twice: the call's token is kept in the hash (`createAttempt`), so a run that finds the
 * id taken under its own token is this same create already applied (a reply lost to a dropped
 * connection and the command sent again), and it answers 1 without writing. That check comes
 * before the cap, which the first run may have filled. Matching on the stored owner and createdAt
 * instead would also let a second create of the same credential in the same millisecond through,
 * which the contract answers `credential_exists`.
 */
export const CREATE_CREDENTIAL = new LuaScript(
  'createCredential',
  `if redis.call('EXISTS', KEYS[1]) == 1 then
  if redis.call('HGET', KEYS[1], 'createAttempt') == ARGV[5] then return 1 end
  return 0
end
if ARGV[4] ~= '' and redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then return -1 end
redis.call('HSET', KEYS[1], 'createAttempt', ARGV[5], unpack(ARGV, 6))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return 1`,
  2,
);

/**
 * Account create with its first credential, all or nothing: every check runs before any write.
 * KEYS[1] username index, KEYS[2] user id index, KEYS[3] account hash,
 * KEYS[4] account's credential set, KEYS[5] credential hash.
 * ARGV[1] user handle, ARGV[2] credential id, ARGV[3] credential createdAt ms,
 * ARGV[4] number N of account field/value arguments, ARGV[5] a token unique to this call (random,
 * made per call), ARGV[6..5+N] account fields, ARGV[6+N..] credential fields.
 * Returns 'ok' or the first conflict: 'username_taken', 'credential_exists', 'user_handle_exists',
 * 'user_id_exists'.
 *
 * Safe to run twice: the call's token is kept in the account hash (`createAttempt`), so a run that
 * finds the username held by this user handle under its own token is this sign-up already applied
 * (a reply lost to a dropped connection and the command sent again), and it answers 'ok' without
 * writing. Matching on the stored values instead would answer 'ok' to a second sign-up with the
 * same values, which the contract answers `username_taken`.
 */
export const CREATE_ACCOUNT = new LuaScript(
  'createAccount',
  `local owner = redis.call('GET', KEYS[1])
if owner then
  if owner == ARGV[1] and redis.call('HGET', KEYS[3], 'createAttempt') == ARGV[5] then return 'ok' end
  return 'username_taken'
end
if redis.call('EXISTS', KEYS[5]) == 1 then return 'credential_exists' end
if redis.call('EXISTS', KEYS[3]) == 1 or redis.call('EXISTS', KEYS[4]) == 1 then return 'user_handle_exists' end
if redis.call('EXISTS', KEYS[2]) == 1 then return 'user_id_exists' end
local n = tonumber(ARGV[4])
redis.call('HSET', KEYS[3], 'createAttempt', ARGV[5], unpack(ARGV, 6, 5 + n))
redis.call('HSET', KEYS[5], unpack(ARGV, 6 + n))
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[2])
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[1])
return 'ok'`,
  5,
);

/**
 * Compare-and-set on the signature counter.
 * KEYS[1] credential hash. ARGV[1] expected counter, ARGV[2] new counter, ARGV[3] backedUp ('1'/'0'),
 * ARGV[4] lastUsedAt ms, ARGV[5] a token unique to this attempt (random, made per call).
 * Returns the updated hash (HGETALL form) or nil when missing or the counter moved.
 *
 * Safe to run twice: the attempt's token is kept in the hash (`signInAttempt`), so a run whose
 * counter check fails but whose token is the stored one is this same update already applied (a
 * reply lost to a dropped connection and the command sent again), and it answers the hash rather
 * than nil (which the core would report as a possible clone). Matching on the stored counter and
 * lastUsedAt instead would also let a second assertion with the same counter in the same
 * millisecond through (a clone).
 */
export const UPDATE_AFTER_SIGN_IN = new LuaScript(
  'updateAfterSignIn',
  `local current = redis.call('HMGET', KEYS[1], 'counter', 'signInAttempt')
if not current[1] then return nil end
if tonumber(current[1]) ~= tonumber(ARGV[1]) then
  if current[2] ~= ARGV[5] then return nil end
else
  redis.call('HSET', KEYS[1], 'counter', ARGV[2], 'backedUp', ARGV[3], 'lastUsedAt', ARGV[4], 'signInAttempt', ARGV[5])
end
return redis.call('HGETALL', KEYS[1])`,
  1,
);

/**
 * Rename with the ownership check in the same step.
 * KEYS[1] credential hash. ARGV[1] user handle, ARGV[2] '1' to set / '0' to clear, ARGV[3] nickname.
 * Returns the updated hash (HGETALL form) or nil when missing or owned by another account.
 * Safe to run twice as it is (the second run writes the same nickname).
 */
export const RENAME = new LuaScript(
  'rename',
  `if redis.call('HGET', KEYS[1], 'userHandle') ~= ARGV[1] then return nil end
if ARGV[2] == '1' then
  redis.call('HSET', KEYS[1], 'nickname', ARGV[3])
else
  redis.call('HDEL', KEYS[1], 'nickname')
end
return redis.call('HGETALL', KEYS[1])`,
  1,
);

/**
 * Delete with the ownership check and the last-credential rule in the same step (so concurrent
 * deletes of an account's last two credentials cannot both pass the rule).
 * KEYS[1] credential hash, KEYS[2] account's credential set.
 * ARGV[1] user handle, ARGV[2] credential id, ARGV[3] allowLast ('1'/'0').
 * Returns 'deleted', 'not_found' or 'last_credential'.
 * Not safe to run twice (a second run answers 'not_found'): `createRedisStores` refuses a client
 * that would send it again (`autoResendUnfulfilledCommands`).
 */
export const DELETE_CREDENTIAL = new LuaScript(
  'deleteCredential',
  `if redis.call('HGET', KEYS[1], 'userHandle') ~= ARGV[1] then return 'not_found' end
if ARGV[3] ~= '1' and redis.call('ZCARD', KEYS[2]) <= 1 then return 'last_credential' end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
return 'deleted'`,
  2,
);

/**
 * Account delete with all its credentials and both indexes, all or nothing. The caller reads the
 * account and its credential ids first (every key must be declared); the script checks that they are
 * still exactly that, so a credential added or removed meanwhile makes it answer 'changed' (nothing
 * written) and the caller reads again.
 * KEYS[1] account hash, KEYS[2] account's credential set, KEYS[3] username index, KEYS[4] user id
 * index, KEYS[5..] the credential hashes. ARGV[1] user handle, ARGV[2] username, ARGV[3] user id,
 * ARGV[4..] the credential ids (same order as their KEYS).
 * Returns 'deleted', 'not_found' or 'changed'.
 *
 * A second run after a lost reply answers 'not_found': the caller reports it as "already gone".
 */
export const DELETE_ACCOUNT = new LuaScript(
  'deleteAccount',
  `if redis.call('HGET', KEYS[1], 'userHandle') ~= ARGV[1] then return 'not_found' end
if redis.call('HGET', KEYS[1], 'username') ~= ARGV[2] or redis.call('HGET', KEYS[1], 'userId') ~= ARGV[3] then return 'changed' end
local n = #KEYS - 4
if redis.call('ZCARD', KEYS[2]) ~= n then return 'changed' end
for i = 1, n do
  if not redis.call('ZSCORE', KEYS[2], ARGV[3 + i]) then return 'changed' end
end
for i = 1, n do redis.call('DEL', KEYS[4 + i]) end
redis.call('DEL', KEYS[1], KEYS[2])
if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
if redis.call('GET', KEYS[4]) == ARGV[1] then redis.call('DEL', KEYS[4]) end
return 'deleted'`,
  -1,
);

/**
 * Account rename: the account's username and the username index move in one step (the old index
 * entry is deleted, the new one set), after the compare-and-set and uniqueness checks.
 * KEYS[1] account hash, KEYS[2] the new username's index. ARGV[1] user handle, ARGV[2] new username,
 * ARGV[3] the username index key without the username (the client's `keyPrefix` included: ioredis
 * adds it to KEYS only), ARGV[4] '1' when ARGV[5] is the expected username ('0': any), ARGV[6] '1'
 * when ARGV[7] is the new display name ('0': kept).
 * Returns the account's HGETALL pairs, nil (no such account, or its username is neither the expected
 * one nor the new one) or 'username_taken'.
 * It builds the old name's index key, which depends on the username it reads; the key shares the
 * account's hash tag (one slot, also on a Cluster).
 * Safe to run twice: a second run finds the name already moved, and the display name already set.
 */
export const RENAME_ACCOUNT = new LuaScript(
  'renameAccount',
  `local current = redis.call('HGET', KEYS[1], 'username')
if not current then return nil end
if ARGV[4] == '1' and current ~= ARGV[5] and current ~= ARGV[2] then return nil end
local owner = redis.call('GET', KEYS[2])
if owner and owner ~= ARGV[1] then return 'username_taken' end
if current ~= ARGV[2] then
  local old = ARGV[3] .. current
  if redis.call('GET', old) == ARGV[1] then redis.call('DEL', old) end
  redis.call('SET', KEYS[2], ARGV[1])
  redis.call('HSET', KEYS[1], 'username', ARGV[2])
end
if ARGV[6] == '1' then redis.call('HSET', KEYS[1], 'displayName', ARGV[7]) end
return redis.call('HGETALL', KEYS[1])`,
  2,
);

/**
 * The body shared by the consume-for-sign-in scripts: consume the challenge at `challenge`, read
 * the credential hash at `credential` and its owner's account (key `accountPrefix .. userHandle`),
 * into the Lua locals `v`, `credential` and `account`. The arguments are Lua expressions (`KEYS[n]`).
 */
function consumeForSignInLua(challenge: string, credential: string, accountPrefix: string): string {
  return `local v = redis.call('GET', ${challenge})
if v then redis.call('DEL', ${challenge}) end
local credential = redis.call('HGETALL', ${credential})
local account = {}
if #credential > 0 then
  local owner = redis.call('HGET', ${credential}, 'userHandle')
  if owner then account = redis.call('HGETALL', ${accountPrefix} .. owner) end
end
`;
}

/**
 * A sign-in verify's first reads in one step: consume the challenge, read the credential and its
 * owner's account.
 * KEYS[1] challenge, KEYS[2] credential hash. ARGV[1] the account key without the user handle (the
 * client's `keyPrefix` included: ioredis adds it to KEYS only).
 * Returns { challenge value or false, credential HGETALL pairs, account HGETALL pairs }.
 *
 * The one script that builds a key: the account's key depends on the credential's user handle,
 * which only the script itself reads. It shares the credential's hash tag, but the challenge key
 * does not, so this script is for standalone Redis only (`createRedisStores` offers it only there;
 * a Cluster gets the separate calls).
 * Not safe to run twice (a second run answers no challenge), like `GETDEL`: `createRedisStores`
 * refuses a client that would send it again (`autoResendUnfulfilledCommands`).
 */
export const CONSUME_FOR_SIGN_IN = new LuaScript(
  'consumeForSignIn',
  `${consumeForSignInLua('KEYS[1]', 'KEYS[2]', 'ARGV[1]')}return { v, credential, account }`,
  2,
);

/**
 * An account by a uniqueness index (username or user id) in one step: the index, then the account.
 * KEYS[1] index key. ARGV[1] the account key without the user handle (the client's `keyPrefix`
 * included: ioredis adds it to KEYS only). Returns the account's HGETALL pairs ({} when none).
 * It builds the account's key, which shares the index's hash tag (one slot, also on a Cluster).
 * A miss reads a key that never exists (user handles are never empty), so a hit and a miss do the
 * same work: how long `login/options` takes does not say whether a username exists.
 */
export const FIND_ACCOUNT_BY_INDEX = new LuaScript(
  'findAccountByIndex',
  `local handle = redis.call('GET', KEYS[1])
return redis.call('HGETALL', ARGV[1] .. (handle or ''))`,
  1,
);

/**
 * An account's credentials in one step: the ids in its sorted set (by createdAt, then id), then
 * each hash. KEYS[1] the account's credential set. ARGV[1] the credential key without the id (the
 * client's `keyPrefix` included). Returns one HGETALL pairs array per id, in set order.
 * It builds the credentials' keys, which share the set's hash tag (one slot, also on a Cluster).
 * An empty set reads one key that never exists (ids are never empty), so an account without
 * passkeys, or a username without an account, costs what one with a passkey does.
 */
export const LIST_CREDENTIALS = new LuaScript(
  'listCredentials',
  `local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
if #ids == 0 then ids = { '' } end
local hashes = {}
for i, id in ipairs(ids) do hashes[i] = redis.call('HGETALL', ARGV[1] .. id) end
return hashes`,
  1,
);

/**
 * A username-first `login/options`'s reads in one step: the username index, the account, then its
 * credentials (or those under a stand-in handle when the username is unknown: none, but the same
 * work, so the time taken does not tell whether the username exists).
 * KEYS[1] username index. ARGV[1] the account key without the user handle, ARGV[2] the credential
 * key without the id (both with the client's `keyPrefix`), ARGV[3] the suffix that makes an account
 * key its credential set's key, ARGV[4] the stand-in user handle.
 * Returns { account HGETALL pairs, one HGETALL pairs array per credential id in set order }.
 * It builds keys that share the index's hash tag (one slot, also on a Cluster).
 */
export const FIND_FOR_SIGN_IN = new LuaScript(
  'findForSignIn',
  `local handle = redis.call('GET', KEYS[1])
local account = redis.call('HGETALL', ARGV[1] .. (handle or ''))
local ids = redis.call('ZRANGE', ARGV[1] .. (handle or ARGV[4]) .. ARGV[3], 0, -1)
if #ids == 0 then ids = { '' } end
local hashes = {}
for i, id in ipairs(ids) do hashes[i] = redis.call('HGETALL', ARGV[2] .. id) end
return { account, hashes }`,
  1,
);

/**
 * The per-IP request count that opens the counted scripts: rate-limiter-flexible's own
 * `RateLimiterRedis` script (11.x, `rlflxIncr`), so the bucket counts exactly as the limiter's
 * `consume(key)` does, on the same key: a fixed window of ARGV[2] seconds that starts with its
 * first request, every request counted (a refused one too), refused once the count is over ARGV[1].
 * KEYS[1] the limiter's key. ARGV[1] points, ARGV[2] duration in seconds.
 * A refused request returns { 'limited', ms before the window ends } before anything else is done.
 */
const COUNT_REQUEST = `redis.call('SET', KEYS[1], 0, 'EX', ARGV[2], 'NX')
local consumed = redis.call('INCRBY', KEYS[1], 1)
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -1 then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  ttl = 1000 * tonumber(ARGV[2])
end
if consumed > tonumber(ARGV[1]) then return { 'limited', ttl } end
`;

/**
 * `login/options`'s write with its per-IP count (`COUNT_REQUEST`) in one step: count, then, unless
 * refused, the challenge put (`SET ... PX ttl NX`, as `RedisChallengeStore.put`).
 * KEYS[1] the limiter's key, KEYS[2] challenge. ARGV[1] points, ARGV[2] duration in seconds,
 * ARGV[3] value, ARGV[4] TTL in ms.
 * Returns { 'limited', ms } or { 'ok', 1 when stored / 0 when the id is pending }.
 * The limiter's key is not in the challenge's slot, so this is for standalone Redis only.
 * Not safe to run twice (a second run counts twice): `createRedisStores` refuses a client that
 * would send it again (`autoResendUnfulfilledCommands`).
 */
export const PUT_COUNTED = new LuaScript(
  'putCounted',
  `${COUNT_REQUEST}if redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4], 'NX') then return { 'ok', 1 } end
if redis.call('GET', KEYS[2]) == ARGV[3] then return { 'ok', 1 } end
return { 'ok', 0 }`,
  2,
);

/**
 * `login/verify`'s first step with its per-IP count (`COUNT_REQUEST`): count, then, unless refused,
 * what `CONSUME_FOR_SIGN_IN` does (consume the challenge, read the credential and its account).
 * KEYS[1] the limiter's key, KEYS[2] challenge, KEYS[3] credential hash. ARGV[1] points, ARGV[2]
 * duration in seconds, ARGV[3] the account key without the user handle (with the client's `keyPrefix`).
 * Returns { 'limited', ms } or { 'ok', challenge value or false, credential pairs, account pairs }.
 * Standalone Redis only (its keys span slots); not safe to run twice, as `CONSUME_FOR_SIGN_IN`.
 */
export const CONSUME_FOR_SIGN_IN_COUNTED = new LuaScript(
  'consumeForSignInCounted',
  `${COUNT_REQUEST}${consumeForSignInLua('KEYS[2]', 'KEYS[3]', 'ARGV[3]')}return { 'ok', v, credential, account }`,
  3,
);

export const ALL_SCRIPTS: readonly LuaScript[] = [
  PUT_COUNTED,
  CONSUME_FOR_SIGN_IN_COUNTED,
  FIND_FOR_SIGN_IN,
  FIND_ACCOUNT_BY_INDEX,
  LIST_CREDENTIALS,
  CONSUME,
  CONSUME_FOR_SIGN_IN,
  CREATE_CREDENTIAL,
  CREATE_ACCOUNT,
  UPDATE_AFTER_SIGN_IN,
  RENAME,
  DELETE_CREDENTIAL,
  DELETE_ACCOUNT,
  RENAME_ACCOUNT,
];
