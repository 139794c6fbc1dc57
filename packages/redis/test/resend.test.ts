import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { isPassgateError } from '@passgate/core';
import { makeCredential, makeSignUp } from '@passgate/testing';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createKeySpace,
  createRedisStores,
  RedisAccountRepository,
  RedisChallengeStore,
  RedisCredentialRepository,
} from '../src/index.js';
import { ALL_SCRIPTS } from '../src/scripts.js';
import { connect, deleteKeys, NO_RESEND, REDIS_URL, randomPrefix } from './helpers.js';

/**
 * The case `autoResendUnfulfilledCommands` gets wrong: Redis runs a command, the connection drops
 * before its reply arrives, ioredis reconnects and (by default) sends the command again. These
 * tests cut the connection at exactly that point with a TCP proxy.
 */

const prefix = randomPrefix('resend');
const target = new URL(REDIS_URL);

/**
 * A TCP proxy to Redis. `dropNextReply()` arms it: the next chunk Redis sends back is swallowed
 * and both sides of that connection are closed, as when a network path fails after the server ran
 * the command.
 */
interface DropProxy {
  port: number;
  drops: number;
  connections: number;
  dropNextReply(): void;
  close(): Promise<void>;
}

async function startDropProxy(): Promise<DropProxy> {
  let armed = false;
  const sockets = new Set<Socket>();
  const proxy: DropProxy = {
    port: 0,
    drops: 0,
    connections: 0,
    dropNextReply: () => {
      armed = true;
    },
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((downstream) => {
    proxy.connections++;
    const upstream = netConnect(Number(target.port || 6379), target.hostname);
    sockets.add(downstream);
    sockets.add(upstream);
    downstream.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => {
      if (armed) {
        armed = false;
        proxy.drops++;
        downstream.destroy();
        upstream.destroy();
        return;
      }
      downstream.write(chunk);
    });
    for (const socket of [downstream, upstream]) {
      socket.on('error', () => {});
      socket.on('close', () => {
        sockets.delete(socket);
        downstream.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('proxy did not listen');
  proxy.port = address.port;
  return proxy;
}

let proxy: DropProxy;
let admin: Redis;

beforeAll(async () => {
  proxy = await startDropProxy();
  admin = connect();
});
afterAll(async () => {
  await deleteKeys(admin, prefix);
  admin.disconnect();
  await proxy.close();
});

/** A client through the proxy, ready before it is used (so the drop hits a store command). */
async function proxiedClient(options: { resend: boolean }): Promise<Redis> {
  const client = new Redis({
    host: '127.0.0.1',
    port: proxy.port,
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    autoResendUnfulfilledCommands: options.resend,
    retryStrategy: () => 20,
  });
  client.on('error', () => {});
  await client.connect();
  // Cached, so the swallowed reply is the script's own answer rather than NOSCRIPT.
  for (const script of ALL_SCRIPTS) await client.script('LOAD', script.lua);
  return client;
}

/** Runs `operation` with the next reply dropped; checks a reconnect happened in between. */
async function withDroppedReply<T>(operation: () => Promise<T>): Promise<T> {
  const drops = proxy.drops;
  const connections = proxy.connections;
  proxy.dropNextReply();
  try {
    return await operation();
  } finally {
    expect(proxy.drops).toBe(drops + 1);
    expect(proxy.connections).toBeGreaterThan(connections);
  }
}

describe('createRedisStores refuses a client that re-sends unanswered commands', () => {
  it('refuses ioredis defaults (Redis and Cluster) with a TypeError naming the setting', () => {
    const standalone = new Redis(REDIS_URL, { lazyConnect: true });
    const explicit = new Redis(REDIS_URL, { lazyConnect: true, autoResendUnfulfilledCommands: true });
    const cluster = new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true });
    const clusterOn = new Cluster([{ host: '127.0.0.1', port: 1 }], {
      lazyConnect: true,
      redisOptions: { maxRetriesPerRequest: 1 },
    });
    try {
      for (const client of [standalone, explicit, cluster, clusterOn]) {
        expect(() => createRedisStores({ client, prefix })).toThrow(TypeError);
        expect(() => createRedisStores({ client, prefix })).toThrow(
          /autoResendUnfulfilledCommands: false.*runs twice/s,
        );
      }
      expect(() => createRedisStores({ client: cluster, prefix })).toThrow(/redisOptions/);
    } finally {
      for (const client of [standalone, explicit, cluster, clusterOn]) client.disconnect();
    }
  });

  it('accepts a client with autoResendUnfulfilledCommands: false (Redis and Cluster)', () => {
    const standalone = new Redis(REDIS_URL, { lazyConnect: true, ...NO_RESEND });
    const cluster = new Cluster([{ host: '127.0.0.1', port: 1 }], {
      lazyConnect: true,
      redisOptions: NO_RESEND,
    });
    try {
      expect(() => createRedisStores({ client: standalone, prefix })).not.toThrow();
      expect(() => createRedisStores({ client: cluster, prefix })).not.toThrow();
    } finally {
      standalone.disconnect();
      cluster.disconnect();
    }
  });

  it('with resend off, a write whose reply was lost fails with store_unavailable, never a wrong answer', async () => {
    const client = await proxiedClient({ resend: false });
    try {
      const stores = createRedisStores({ client, prefix, commandTimeoutMs: 500 });
      const { account, credential } = makeSignUp();
      await stores.accounts.create(account, credential);
      const second = makeCredential({ userHandle: account.userHandle });
      await stores.credentials.create(second);

      const deleted = await withDroppedReply(() =>
        stores.credentials
          .delete(account.userHandle, second.id, { allowLast: false })
          .catch((e: unknown) => e),
      );
      expect(isPassgateError(deleted, 'store_unavailable')).toBe(true);
      expect(await stores.credentials.findById(second.id)).toBeNull(); // it did run, once

      await stores.challenges.put('c1', 'state', 60_000);
      const consumed = await withDroppedReply(() => stores.challenges.consume('c1').catch((e: unknown) => e));
      expect(isPassgateError(consumed, 'store_unavailable')).toBe(true);
    } finally {
      client.disconnect();
    }
  });
});

describe('the write scripts answer correctly when run twice (resend on, reply dropped)', () => {
  // Built without the factory, which would refuse this client: what is tested here is the scripts.
  async function storesOnResendingClient() {
    const client = await proxiedClient({ resend: true });
    const keys = createKeySpace(prefix);
    const common = { client, keys, commandTimeoutMs: 5000 };
    return {
      client,
      challenges: new RedisChallengeStore(common),
      credentials: new RedisCredentialRepository(common),
      accounts: new RedisAccountRepository(common),
    };
  }

  it('sign-up answers ok (not username_taken), and wrote everything once', async () => {
    const { client, accounts, credentials } = await storesOnResendingClient();
    try {
      const { account, credential } = makeSignUp();
      await withDroppedReply(() => accounts.create(account, credential));
      expect(await accounts.findByUsername(account.username)).toEqual(account);
      expect(await credentials.listByUserHandle(account.userHandle)).toEqual([credential]);

      // Still a conflict for anyone else: another user handle, or the same one with another credential.
      const other = makeSignUp({ username: account.username });
      await expect(accounts.create(other.account, other.credential)).rejects.toMatchObject({
        code: 'username_taken',
      });
      const sameHandle = makeCredential({ userHandle: account.userHandle });
      await expect(accounts.create(account, sameHandle)).rejects.toMatchObject({ code: 'username_taken' });
      const laterCopy = { ...credential, createdAt: new Date(credential.createdAt.getTime() + 1) };
      await expect(accounts.create(account, laterCopy)).rejects.toMatchObject({ code: 'username_taken' });
    } finally {
      client.disconnect();
    }
  });

  it('add-passkey answers ok (not credential_exists); another owner or createdAt still conflicts', async () => {
    const { client, accounts, credentials } = await storesOnResendingClient();
    try {
      const { account, credential } = makeSignUp();
      await accounts.create(account, credential);
      const second = makeCredential({ userHandle: account.userHandle });
      await withDroppedReply(() => credentials.create(second));
      expect(await credentials.listByUserHandle(account.userHandle)).toHaveLength(2);
      expect(await credentials.findById(second.id)).toEqual(second);

      await expect(credentials.create({ ...second, userHandle: 'someone-else' })).rejects.toMatchObject({
        code: 'credential_exists',
      });
      await expect(
        credentials.create({ ...second, createdAt: new Date(second.createdAt.getTime() + 1) }),
      ).rejects.toMatchObject({ code: 'credential_exists' });
    } finally {
      client.disconnect();
    }
  });

  it('the counter compare-and-set answers the credential (not null: no false clone alarm)', async () => {
    const { client, accounts, credentials } = await storesOnResendingClient();
    try {
      const { account, credential } = makeSignUp({}, { counter: 5 });
      await accounts.create(account, credential);
      const lastUsedAt = new Date(1_800_000_000_123);
      const updated = await withDroppedReply(() =>
        credentials.updateAfterSignIn({
          id: credential.id,
          expectedCounter: 5,
          counter: 6,
          backedUp: false,
          lastUsedAt,
        }),
      );
      expect(updated).toMatchObject({ counter: 6, backedUp: false, lastUsedAt });

      // A different sign-in that reaches the same counter (another lastUsedAt) still loses the CAS.
      expect(
        await credentials.updateAfterSignIn({
          id: credential.id,
          expectedCounter: 5,
          counter: 6,
          backedUp: false,
          lastUsedAt: new Date(1_800_000_000_124),
        }),
      ).toBeNull();
      expect(await credentials.findById(credential.id)).toMatchObject({ counter: 6, lastUsedAt });
    } finally {
      client.disconnect();
    }
  });

  it('rename answers the renamed credential', async () => {
    const { client, accounts, credentials } = await storesOnResendingClient();
    try {
      const { account, credential } = makeSignUp();
      await accounts.create(account, credential);
      const renamed = await withDroppedReply(() =>
        credentials.rename(account.userHandle, credential.id, 'Laptop'),
      );
      expect(renamed).toMatchObject({ id: credential.id, nickname: 'Laptop' });
    } finally {
      client.disconnect();
    }
  });

  it('challenge put answers true (not false); a different value under the id is still refused', async () => {
    const { client, challenges } = await storesOnResendingClient();
    try {
      expect(await withDroppedReply(() => challenges.put('p1', 'state-1', 60_000))).toBe(true);
      expect(await challenges.put('p1', 'state-2', 60_000)).toBe(false);
      expect(await challenges.consume('p1')).toBe('state-1');
    } finally {
      client.disconnect();
    }
  });
});
