/**
 * Key layout. Two families:
 *
 * - Challenges: `{prefix}ch:{ceremonyId}`. No hash tag, so on a Redis Cluster they spread over
 *   every slot (no hot slot); each challenge operation touches exactly one key.
 * - Credentials and accounts: `{prefix}{<hashTag>}:...`. All of them share one hash tag (default:
 *   the prefix without its trailing `:`), so they live in one cluster slot and the Lua scripts that
 *   keep uniqueness indexes and ownership consistent can touch several of them atomically.
 *
 * Every key starts with the prefix, so an ACL rule such as `~passgate:*` covers them all and a
 * `SCAN MATCH passgate:*` finds them all.
 */
export const DEFAULT_PREFIX = 'passgate:';

export interface KeySpace {
  readonly prefix: string;
  readonly hashTag: string;
  /** String (the ceremony state), with a TTL. */
  challenge(ceremonyId: string): string;
  /** Hash: one credential. */
  credential(credentialId: string): string;
  /** Sorted set: the account's credential ids, scored by `createdAt` (ms), ties by id. */
  accountCredentials(userHandle: string): string;
  /** Hash: one account. */
  account(userHandle: string): string;
  /** String: username → user handle (uniqueness index). */
  username(username: string): string;
  /** String: user id → user handle (uniqueness index). */
  userId(userId: string): string;
}

export function createKeySpace(prefix: string = DEFAULT_PREFIX, hashTag?: string): KeySpace {
  if (/[{}]/.test(prefix)) {
    // A brace in the prefix would become the hash tag of every key, challenges included, and
    // silently move all of them into one cluster slot.
    throw new TypeError('passgate: prefix must not contain "{" or "}"; use the hashTag option instead');
  }
  const tag = hashTag ?? (prefix.replace(/:+$/, '') || 'passgate');
  if (tag.length === 0 || /[{}]/.test(tag)) {
    throw new TypeError('passgate: hashTag must be a non-empty string without "{" or "}"');
  }
  const repo = `${prefix}{${tag}}:`;
  return {
    prefix,
    hashTag: tag,
    challenge: (id) => `${prefix}ch:${id}`,
    credential: (id) => `${repo}cred:${id}`,
    accountCredentials: (userHandle) => `${repo}u:${userHandle}:creds`,
    account: (userHandle) => `${repo}u:${userHandle}`,
    username: (username) => `${repo}username:${username}`,
    userId: (userId) => `${repo}userid:${userId}`,
  };
}
