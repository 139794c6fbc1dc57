import { isPassgateError } from '@passgate/core';
import { makeCredential, makeSignUp } from '@passgate/testing';
import { describe, expect, it } from 'vitest';
import { createKeySpace, createRedisStores } from '../src/index.js';
import {
  CREATE_ACCOUNT,
  CREATE_CREDENTIAL,
  DELETE_CREDENTIAL,
  type LuaScript,
  RENAME,
  UPDATE_AFTER_SIGN_IN,
} from '../src/scripts.js';
import { connect, deleteKeys, redisForFile, scanKeys } from './helpers.js';

const { prefix, client } = redisForFile('repos');
const tag = prefix.replace(/:+$/, '');

/** The hash tag Redis Cluster would use for a key: the first non-empty `{...}`, else the whole key. */
function hashTagOf(key: string): string {
  const open = key.indexOf('{');
  if (open !== -1) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) return key.slice(open + 1, close);
  }
  return key;
}

describe('key layout', () => {
  it('challenges carry no hash tag; every repository key shares one; all start with the prefix', () => {
    const keys = createKeySpace(prefix);
    expect(keys.challenge('abc')).toBe(`${prefix}ch:abc`);
    expect(hashTagOf(keys.challenge('abc'))).toBe(keys.challenge('abc'));
    const repoKeys = [
      keys.credential('c1'),
      keys.accountCredentials('h1'),
      keys.account('h1'),
      keys.username('Ünïcode {with} braces'),
      keys.userId('user:{x}'),
    ];
    for (const key of repoKeys) {
      expect(key.startsWith(prefix)).toBe(true);
      expect(hashTagOf(key)).toBe(tag);
    }
    expect(createKeySpace().credential('c1')).toBe('passgate:{passgate}:cred:c1');
    expect(createKeySpace('app:', 'shard7').account('h')).toBe('app:{shard7}:u:h');
  });

  it('refuses braces in the prefix or the hash tag', () => {
    expect(() => createKeySpace('{x}:')).toThrow(TypeError);
    expect(() => createKeySpace('p:', 'a}b')).toThrow(TypeError);
    expect(() => createRedisStores({ client, prefix: 'a{b' })).toThrow(TypeError);
  });
});

describe('repositories on Redis', () => {
  it('sign-up writes exactly the account, both indexes, the credential set and the credential hash', async () => {
    const p = `${prefix}layout:`;
    const { accounts } = createRedisStores({ client, prefix: p });
    const { account, credential } = makeSignUp(
      {},
      { nickname: 'Laptop', lastUsedAt: new Date(1_700_000_000_123) },
    );
    await accounts.create(account, credential);
    const t = `${p}{${p.replace(/:+$/, '')}}:`;
    expect((await scanKeys(client, p)).sort()).toEqual(
      [
        `${t}cred:${credential.id}`,
        `${t}u:${account.userHandle}`,
        `${t}u:${account.userHandle}:creds`,
        `${t}username:${account.username}`,
        `${t}userid:${account.userId}`,
      ].sort(),
    );
    const hash = await client.hgetall(`${t}cred:${credential.id}`);
    expect(hash['publicKey']).toBe(Buffer.from(credential.publicKey).toString('base64'));
    expect(hash['createdAt']).toBe(String(credential.createdAt.getTime()));
    expect(hash['lastUsedAt']).toBe('1700000000123');
    expect(hash['nickname']).toBe('Laptop');
    expect(await client.get(`${t}username:${account.username}`)).toBe(account.userHandle);
    expect(await client.get(`${t}userid:${account.userId}`)).toBe(account.userHandle);
    expect(await client.zscore(`${t}u:${account.userHandle}:creds`, credential.id)).toBe(
      String(credential.createdAt.getTime()),
    );
    await deleteKeys(client, p);
  });

  it('deleting keeps the per-account set in step with the hashes', async () => {
    const { accounts, credentials } = createRedisStores({ client, prefix });
    const keys = createKeySpace(prefix);
    const { account, credential } = makeSignUp();
    await accounts.create(account, credential);
    const second = makeCredential({ userHandle: account.userHandle });
    await credentials.create(second);
    expect(await client.zcard(keys.accountCredentials(account.userHandle))).toBe(2);
    expect(await credentials.delete(account.userHandle, credential.id, { allowLast: false })).toBe('deleted');
    expect(await client.zrange(keys.accountCredentials(account.userHandle), 0, '-1')).toEqual([second.id]);
    expect(await client.exists(keys.credential(credential.id))).toBe(0);
    expect(await credentials.delete(account.userHandle, second.id, { allowLast: true })).toBe('deleted');
    expect(await client.exists(keys.accountCredentials(account.userHandle))).toBe(0);
    // The account itself stays (the account repository has no delete).
    expect(await accounts.findByUserHandle(account.userHandle)).toEqual(account);
  });

  it('the delete script checks ownership itself (called directly with a foreign handle)', async () => {
    const { accounts } = createRedisStores({ client, prefix });
    const keys = createKeySpace(prefix);
    const { account, credential } = makeSignUp();
    await accounts.create(account, credential);
    const reply = await DELETE_CREDENTIAL.run(
      client,
      [keys.credential(credential.id), keys.accountCredentials('someone-else')],
      ['someone-else', credential.id, '1'],
    );
    expect(reply).toBe('not_found');
    expect(await client.exists(keys.credential(credential.id))).toBe(1);
  });

  it('the create-account script checks before it writes: a conflict leaves no key behind', async () => {
    const { accounts } = createRedisStores({ client, prefix });
    const first = makeSignUp();
    await accounts.create(first.account, first.credential);
    const p = createKeySpace(prefix);
    const clash = makeSignUp({ userId: first.account.userId });
    await expect(accounts.create(clash.account, clash.credential)).rejects.toThrow(/user id/);
    for (const key of [
      p.username(clash.account.username),
      p.account(clash.account.userHandle),
      p.accountCredentials(clash.account.userHandle),
      p.credential(clash.credential.id),
    ]) {
      expect(await client.exists(key)).toBe(0);
    }
    expect(CREATE_ACCOUNT.numberOfKeys).toBe(5);
  });

  it('create refuses a first credential of another user handle', async () => {
    const { accounts } = createRedisStores({ client, prefix });
    const { account } = makeSignUp();
    await expect(accounts.create(account, makeCredential())).rejects.toThrow(/userHandle/);
  });

  it('every write script survives SCRIPT FLUSH (NOSCRIPT → EVAL reload)', async () => {
    const { accounts, credentials } = createRedisStores({ client, prefix });
    /** After the call that needs it, the script is back in the server's cache (EVAL re-caches it). */
    const expectCached = async (script: LuaScript) =>
      expect(await client.script('EXISTS', script.sha), script.name).toEqual([1]);
    const { account, credential } = makeSignUp();
    await client.script('FLUSH');
    await accounts.create(account, credential);
    expect(await accounts.findByUserHandle(account.userHandle)).toEqual(account);
    await expectCached(CREATE_ACCOUNT);
    await client.script('FLUSH');
    const second = makeCredential({ userHandle: account.userHandle });
    await credentials.create(second);
    expect(await credentials.findById(second.id)).toEqual(second);
    await expectCached(CREATE_CREDENTIAL);
    await client.script('FLUSH');
    expect(await credentials.rename(account.userHandle, second.id, 'Key')).toMatchObject({ nickname: 'Key' });
    await expectCached(RENAME);
    await client.script('FLUSH');
    expect(
      await credentials.updateAfterSignIn({
        id: second.id,
        expectedCounter: second.counter,
        counter: second.counter + 1,
        backedUp: true,
        lastUsedAt: new Date(1_800_000_000_000),
      }),
    ).toMatchObject({ counter: second.counter + 1, backedUp: true });
    await expectCached(UPDATE_AFTER_SIGN_IN);
    await client.script('FLUSH');
    expect(await credentials.delete(account.userHandle, second.id, { allowLast: false })).toBe('deleted');
    await expectCached(DELETE_CREDENTIAL);
  });

  it('honours an ioredis keyPrefix on the application client (all keys passed as KEYS)', async () => {
    const prefixed = connect({ keyPrefix: `${prefix}app:` });
    try {
      const { accounts, credentials, challenges, signIn } = createRedisStores({
        client: prefixed,
        prefix: 'pg:',
      });
      const { account, credential } = makeSignUp();
      await accounts.create(account, credential);
      // The sign-in script builds the account's key itself: with the client's prefix too.
      await challenges.put('s', 'sign-in', 5000);
      expect(await signIn?.consumeForSignIn('s', credential.id)).toEqual({
        ceremony: 'sign-in',
        credential,
        account,
      });
      expect(await accounts.findByUsername(account.username)).toEqual(account);
      expect(await credentials.listByUserHandle(account.userHandle)).toEqual([credential]);
      expect(await credentials.delete(account.userHandle, credential.id, { allowLast: false })).toBe(
        'last_credential',
      );
      await challenges.put('c', 'v', 5000);
      expect(await challenges.consume('c')).toBe('v');
      const keys = await scanKeys(client, `${prefix}app:`);
      expect(keys.length).toBe(5);
      for (const key of keys) expect(key.startsWith(`${prefix}app:pg:{pg}:`)).toBe(true);
    } finally {
      prefixed.disconnect();
    }
  });

  it('a corrupt record is a plain error, not store_unavailable', async () => {
    const { credentials } = createRedisStores({ client, prefix });
    const keys = createKeySpace(prefix);
    await client.hset(keys.credential('corrupt'), 'id', 'corrupt', 'userHandle', 'h');
    const error = await credentials.findById('corrupt').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(isPassgateError(error)).toBe(false);
  });
});
