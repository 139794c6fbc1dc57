import { randomBytes } from 'node:crypto';
import { isPassgateError } from '@passgate/core';
import { makeCredential, makeSignUp } from '@passgate/testing';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createKeySpace, createRedisStores, RedisCommandTimeoutError } from '../src/index.js';
import { guard, isUnavailable } from '../src/timeout.js';
import { NO_RESEND, REDIS_URL, redisForFile } from './helpers.js';

/**
 * Only "Redis cannot answer right now" becomes store_unavailable (503, retry later). A wrong key
 * type, a missing permission or a script error is a bug or a misconfiguration: it must surface as
 * itself, not hide behind a 503.
 */

const { prefix, client } = redisForFile('errors');

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

describe('a WRONGTYPE key collision propagates (not store_unavailable)', () => {
  it('on reads, scripts, GETDEL and pipelines', async () => {
    const stores = createRedisStores({ client, prefix });
    const keys = createKeySpace(prefix);
    const { account, credential } = makeSignUp();
    // Something else wrote a string where a credential hash goes, and a hash where a challenge goes.
    await client.set(keys.credential(credential.id), 'not a hash');
    await client.hset(keys.challenge('ch'), 'a', 'b');
    await client.set(keys.account(account.userHandle), 'not a hash');
    await client.zadd(keys.accountCredentials('h-list'), 1, 'listed');
    await client.set(keys.credential('listed'), 'not a hash');

    const operations: Record<string, () => Promise<unknown>> = {
      'credentials.findById': () => stores.credentials.findById(credential.id),
      'credentials.create (script)': () => stores.credentials.create(credential),
      'credentials.updateAfterSignIn (script)': () =>
        stores.credentials.updateAfterSignIn({
          id: credential.id,
          expectedCounter: 0,
          counter: 1,
          backedUp: false,
          lastUsedAt: new Date(),
        }),
      'credentials.listByUserHandle (pipeline)': () => stores.credentials.listByUserHandle('h-list'),
      'accounts.findByUserHandle': () => stores.accounts.findByUserHandle(account.userHandle),
      'challenges.consume (GETDEL)': () => stores.challenges.consume('ch'),
    };
    for (const [name, run] of Object.entries(operations)) {
      const error = await failure(run());
      expect(isPassgateError(error), name).toBe(false);
      expect(error.message, name).toMatch(/WRONGTYPE/);
    }
  });

  it('on the Lua consume as well', async () => {
    const stores = createRedisStores({ client, prefix: `${prefix}lua:`, consumeStrategy: 'lua' });
    await client.hset(createKeySpace(`${prefix}lua:`).challenge('ch'), 'a', 'b');
    const error = await failure(stores.challenges.consume('ch'));
    expect(isPassgateError(error)).toBe(false);
    expect(error.message).toMatch(/WRONGTYPE/);
  });
});

describe('NOPERM (an ACL that does not cover the keys) propagates', () => {
  const user = `passgate-test-${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('hex');

  afterAll(async () => {
    await client.call('ACL', 'DELUSER', user);
  });

  it('is not store_unavailable', async () => {
    // Allowed every command, but only on keys under another prefix.
    await client.call('ACL', 'SETUSER', user, 'on', `>${password}`, '~elsewhere:*', '+@all');
    const url = new URL(REDIS_URL);
    url.username = user;
    url.password = password;
    const restricted = new Redis(url.toString(), { ...NO_RESEND, maxRetriesPerRequest: 1 });
    try {
      const stores = createRedisStores({ client: restricted, prefix });
      const { account, credential } = makeSignUp();
      for (const run of [
        () => stores.credentials.findById('x'),
        () => stores.accounts.create(account, credential),
        () => stores.credentials.create(makeCredential()),
        () => stores.challenges.put('c', 'v', 1000),
      ]) {
        const error = await failure(run());
        expect(isPassgateError(error)).toBe(false);
        expect(error.message).toMatch(/NOPERM/);
      }
    } finally {
      restricted.disconnect();
    }
  });
});

describe('what counts as unavailable', () => {
  const reply = (message: string) => Object.assign(new Error(message), { name: 'ReplyError' });

  it.each([
    ['LOADING Redis is loading the dataset in memory'],
    ['BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSCRIPT.'],
    ['CLUSTERDOWN The cluster is down'],
    ['TRYAGAIN Multiple keys request during rehashing of slot'],
    ['MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to no.'],
    ["READONLY You can't write against a read only replica. script: abc, on @user_script:3."],
    [
      "ERR Error running script (call to f_abc): @user_script:3: -READONLY You can't write against a read only replica.",
    ],
    ["OOM command not allowed when used memory > 'maxmemory'."],
    ['MISCONF Redis is configured to save RDB snapshots, but it is currently not able to persist on disk.'],
    ['Connection is closed.'],
    ["Stream isn't writeable and enableOfflineQueue options is false"],
    ['Command timed out'],
    ['Command aborted due to connection close'],
    ["Cluster isn't ready and enableOfflineQueue options is false"],
    ['None of startup nodes is available'],
    ['Failed to refresh slots cache.'],
  ])('%s → store_unavailable', async (message) => {
    expect(isUnavailable(reply(message))).toBe(true);
    const error = await failure(guard(1000, () => Promise.reject(reply(message))));
    expect(isPassgateError(error, 'store_unavailable')).toBe(true);
    expect((error as Error & { cause?: unknown }).cause).toBeInstanceOf(Error);
  });

  it('network errors, MaxRetriesPerRequestError and our own deadline are unavailable', async () => {
    expect(
      isUnavailable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })),
    ).toBe(true);
    expect(isUnavailable(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(true);
    class MaxRetriesPerRequestError extends Error {
      override name = 'MaxRetriesPerRequestError';
    }
    expect(
      isUnavailable(new MaxRetriesPerRequestError('Reached the max retries per request limit (which is 1).')),
    ).toBe(true);
    expect(isUnavailable(new RedisCommandTimeoutError(5))).toBe(true);
    const slow = await failure(guard(20, () => new Promise(() => {})));
    expect(isPassgateError(slow, 'store_unavailable')).toBe(true);
  });

  it.each([
    ['WRONGTYPE Operation against a key holding the wrong kind of value'],
    ['NOPERM this user has no permissions to access one of the keys used as arguments'],
    ['ERR Error running script (call to f_abc): @user_script:1: user_script:1: attempt to call a nil value'],
    ["ERR wrong number of arguments for 'hset' command"],
    ['NOSCRIPT No matching script. Please use EVAL.'],
  ])('%s propagates as itself', async (message) => {
    const original = reply(message);
    expect(isUnavailable(original)).toBe(false);
    expect(await failure(guard(1000, () => Promise.reject(original)))).toBe(original);
  });

  it('a bug (TypeError) propagates as itself', async () => {
    const bug = new TypeError('cannot read properties of undefined');
    expect(await failure(guard(1000, () => Promise.reject(bug)))).toBe(bug);
    expect(isUnavailable('a string')).toBe(false);
  });
});
