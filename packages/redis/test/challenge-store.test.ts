import { isPassgateError } from '@passgate/core';
import { makeSignUp } from '@passgate/testing';
import { describe, expect, it } from 'vitest';
import { createRedisStores } from '../src/index.js';
import { CONSUME } from '../src/scripts.js';
import { connect, deleteKeys, redisForFile, scanKeys, sleep } from './helpers.js';

const { prefix, client } = redisForFile('challenges');

describe('RedisChallengeStore', () => {
  it('stores with SET PX NX under {prefix}ch:{id} and never overwrites a pending ceremony', async () => {
    const { challenges } = createRedisStores({ client, prefix });
    expect(await challenges.put('a', 'first', 5000)).toBe(true);
    expect(await challenges.put('a', 'second', 5000)).toBe(false);
    expect(await client.get(`${prefix}ch:a`)).toBe('first');
    const pttl = await client.pttl(`${prefix}ch:a`);
    expect(pttl).toBeGreaterThan(4000);
    expect(pttl).toBeLessThanOrEqual(5000);
    expect(await challenges.consume('a')).toBe('first');
    expect(await challenges.consume('a')).toBeNull();
    expect(await client.exists(`${prefix}ch:a`)).toBe(0);
  });

  it('expires by Redis clock', async () => {
    const { challenges } = createRedisStores({ client, prefix });
    expect(await challenges.put('short', 'v', 100)).toBe(true);
    await sleep(250);
    expect(await challenges.consume('short')).toBeNull();
    expect(await challenges.put('short', 'again', 100)).toBe(true);
  });

  it('rejects a non-positive or fractional TTL without touching Redis', async () => {
    const { challenges } = createRedisStores({ client, prefix });
    await expect(challenges.put('bad', 'v', 0)).rejects.toThrow(RangeError);
    await expect(challenges.put('bad', 'v', 1.5)).rejects.toThrow(RangeError);
  });

  for (const consumeStrategy of ['getdel', 'lua', 'auto'] as const) {
    it(`consume is single-use under 100 concurrent callers on 5 connections (${consumeStrategy})`, async () => {
      const clients = Array.from({ length: 5 }, () => connect());
      try {
        // Connected before the race, and a deadline no loaded machine reaches: this test is about
        // single use, and connecting or a slow answer must not fail it (faults.test.ts owns the deadline).
        await Promise.all(clients.map((c) => c.ping()));
        const stores = clients.map((c) =>
          createRedisStores({ client: c, prefix, consumeStrategy, commandTimeoutMs: 15_000 }),
        );
        const id = `race-${consumeStrategy}`;
        await stores[0]!.challenges.put(id, 'only-once', 5000);
        const results = await Promise.all(
          Array.from({ length: 100 }, (_, i) => stores[i % stores.length]!.challenges.consume(id)),
        );
        expect(results.filter((r) => r !== null)).toEqual(['only-once']);
      } finally {
        for (const c of clients) c.disconnect();
      }
    });
  }

  it('the Lua fallback script is a correct GET+DEL', async () => {
    const key = `${prefix}ch:direct`;
    await client.set(key, 'v', 'PX', 5000);
    expect(await CONSUME.run(client, [key], [])).toBe('v');
    expect(await client.exists(key)).toBe(0);
    expect(await CONSUME.run(client, [key], [])).toBeNull();
  });

  it('auto: switches to Lua once on "unknown command" (Redis < 6.2), and remembers it', async () => {
    let getdelCalls = 0;
    // A client that behaves like Redis 6.0: GETDEL is unknown, everything else is real.
    const old = new Proxy(client, {
      get(target, property, receiver) {
        if (property === 'getdel') {
          return async () => {
            getdelCalls++;
            throw new Error("ERR unknown command 'getdel', with args beginning with: 'x'");
          };
        }
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const { challenges } = createRedisStores({ client: old, prefix });
    expect(challenges.usesLuaConsume).toBe(false);
    await challenges.put('old-1', 'one', 5000);
    await challenges.put('old-2', 'two', 5000);
    expect(await challenges.consume('old-1')).toBe('one');
    expect(challenges.usesLuaConsume).toBe(true);
    expect(await challenges.consume('old-2')).toBe('two');
    expect(await challenges.consume('old-2')).toBeNull();
    expect(getdelCalls).toBe(1);
  });

  it('auto: an outage does not switch to Lua (only "unknown command" does)', async () => {
    const broken = new Proxy(client, {
      get(target, property, receiver) {
        if (property === 'getdel') return async () => Promise.reject(new Error('Connection is closed.'));
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const { challenges } = createRedisStores({ client: broken, prefix });
    const error = await challenges.consume('x').catch((e: unknown) => e);
    expect(isPassgateError(error, 'store_unavailable')).toBe(true);
    expect(challenges.usesLuaConsume).toBe(false);
  });

  it('reloads scripts after SCRIPT FLUSH (NOSCRIPT → EVAL, which re-caches)', async () => {
    const { challenges } = createRedisStores({ client, prefix, consumeStrategy: 'lua' });
    await challenges.put('flush-1', 'one', 5000);
    expect(await challenges.consume('flush-1')).toBe('one');
    await client.script('FLUSH');
    expect(await client.script('EXISTS', CONSUME.sha)).toEqual([0]);
    await challenges.put('flush-2', 'two', 5000);
    expect(await challenges.consume('flush-2')).toBe('two');
    expect(await client.script('EXISTS', CONSUME.sha)).toEqual([1]);
  });

  it('reloads scripts after SCRIPT FLUSH when ioredis auto-pipelines the calls', async () => {
    // The scripts' EVALSHA calls of one turn travel in one pipeline; each NOSCRIPT answer must
    // still fall back to its own EVAL.
    const pipelined = connect({ enableAutoPipelining: true });
    try {
      const { challenges } = createRedisStores({ client: pipelined, prefix, consumeStrategy: 'lua' });
      const ids = ['auto-1', 'auto-2', 'auto-3'];
      await Promise.all(ids.map((id) => challenges.put(id, `value ${id}`, 5000)));
      await client.script('FLUSH');
      expect(await Promise.all(ids.map((id) => challenges.consume(id)))).toEqual(
        ids.map((id) => `value ${id}`),
      );
      expect(await client.script('EXISTS', CONSUME.sha)).toEqual([1]);
    } finally {
      pipelined.disconnect();
    }
  });

  it('keys no ceremony outside {prefix}ch:', async () => {
    // A prefix of its own, holding pending ceremonies next to an account and its credential, so the
    // scan runs over real keys of both families whatever earlier tests consumed or let expire.
    const p = `${prefix}layout:`;
    const { challenges, accounts } = createRedisStores({ client, prefix: p });
    const ceremonies = { 'pending-1': 'state-1', 'pending-2': 'state-2', 'pending:3': 'state-3' };
    for (const [id, value] of Object.entries(ceremonies)) {
      expect(await challenges.put(id, value, 60_000)).toBe(true);
    }
    const { account, credential } = makeSignUp();
    await accounts.create(account, credential);
    try {
      const keys = await scanKeys(client, p);
      const ceremonyKeys = keys.filter((key) => key.startsWith(`${p}ch:`));
      expect(ceremonyKeys.sort()).toEqual(
        Object.keys(ceremonies)
          .map((id) => `${p}ch:${id}`)
          .sort(),
      );
      for (const [id, value] of Object.entries(ceremonies)) {
        expect(await client.get(`${p}ch:${id}`)).toBe(value);
      }
      // Every other key is a repository key (under the hash tag), and none of them holds a ceremony.
      const others = keys.filter((key) => !key.startsWith(`${p}ch:`));
      expect(others.length).toBe(5);
      const states = new Set(Object.values(ceremonies));
      for (const key of others) {
        expect(key.startsWith(`${p}{`), key).toBe(true);
        if ((await client.type(key)) === 'string')
          expect(states.has((await client.get(key))!), key).toBe(false);
      }
    } finally {
      await deleteKeys(client, p);
    }
  });
});
