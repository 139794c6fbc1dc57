import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createPassgate, RequestCount, silentLogger } from '@passgate/core';
import { describeStorageAdapter, makeSignUp } from '@passgate/testing/conformance';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisRateLimiters, createRedisStores } from '../src/index.js';
import { findRedisServer, freePort, randomPrefix, sleep, waitForPing } from './helpers.js';

/**
 * A private three-primary Redis Cluster (started here with `redis-server` and `redis-cli --cluster
 * create`), to prove that every script stays in one slot (no CROSSSLOT) and that challenges spread
 * over the shards. Skipped when the binaries are not installed.
 */
const redisServer = findRedisServer();
const redisCli = ['/usr/bin/redis-cli', '/usr/local/bin/redis-cli'].find((p) => existsSync(p));
const available = redisServer !== undefined && redisCli !== undefined;

interface TestCluster {
  ports: number[];
  stop(): Promise<void>;
}

async function startCluster(): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'passgate-cluster-'));
  const ports: number[] = [];
  const processes: ChildProcess[] = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    const busPort = await freePort();
    ports.push(port);
    processes.push(
      spawn(
        redisServer!,
        [
          '--port',
          String(port),
          '--cluster-port',
          String(busPort),
          '--bind',
          '127.0.0.1',
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          `nodes-${port}.conf`,
          '--dir',
          dir,
          '--save',
          '',
          '--appendonly',
          'no',
        ],
        { stdio: 'ignore' },
      ),
    );
  }
  const stop = async () => {
    await Promise.all(
      processes.map((p) =>
        p.exitCode !== null ? undefined : new Promise((resolve) => p.once('exit', resolve).kill('SIGTERM')),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) await waitForPing(port);
    await promisify(execFile)(redisCli!, [
      '--cluster',
      'create',
      ...ports.map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    const started = Date.now();
    for (const port of ports) {
      const node = new Redis({ port, host: '127.0.0.1' });
      try {
        while (!String(await node.cluster('INFO')).includes('cluster_state:ok')) {
          if (Date.now() - started > 10_000) throw new Error('cluster did not become ready');
          await sleep(100);
        }
      } finally {
        node.disconnect();
      }
    }
    return { ports, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function connectCluster(ports: number[]): Cluster {
  return new Cluster(
    ports.map((port) => ({ host: '127.0.0.1', port })),
    { redisOptions: { autoResendUnfulfilledCommands: false } },
  );
}

describe.skipIf(!available)('Redis Cluster (private 3-primary cluster)', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster();
  }, 30_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  describeStorageAdapter(
    'redis cluster',
    async () => {
      const client = connectCluster(cluster.ports);
      return {
        stores: createRedisStores({ client, prefix: randomPrefix('cluster') }),
        teardown: () => client.disconnect(),
      };
    },
    { renaming: true },
  );

  it('with rateLimiters, no counting on a Cluster (its keys span slots): the limiter counts on its own', async () => {
    const client = connectCluster(cluster.ports);
    const prefix = randomPrefix('cluster-limits');
    try {
      // The limiter rejects while its client is still connecting (rejectIfRedisNotReady).
      await client.ping();
      const rateLimiters = createRedisRateLimiters({
        client,
        prefix,
        perIp: { points: 2, durationSeconds: 60 },
      });
      const stores = createRedisStores({ client, prefix, rateLimiters });
      expect(stores.counting).toBeUndefined();
      const passgate = createPassgate({
        rp: { name: 'cluster', id: 'example.test', origins: ['https://example.test'] },
        stores,
        secret: 'cluster-limits-test-secret-0123456789abcdef',
        logger: silentLogger,
        rateLimits: rateLimiters,
      });
      const options = () => passgate.startAuthentication({ count: new RequestCount('192.0.2.50') });
      await options();
      await options();
      await expect(options()).rejects.toMatchObject({ code: 'rate_limited' });
      expect((await rateLimiters.perIp.get('192.0.2.50'))?.consumedPoints).toBe(3);
    } finally {
      client.disconnect();
    }
  });

  it('challenges spread over every shard; credential/account keys share one', async () => {
    const client = connectCluster(cluster.ports);
    const prefix = randomPrefix('spread');
    try {
      const stores = createRedisStores({ client, prefix });
      for (let i = 0; i < 300; i++) await stores.challenges.put(`spread-${i}`, 'v', 60_000);
      for (let i = 0; i < 5; i++) {
        const { account, credential } = makeSignUp();
        await stores.accounts.create(account, credential);
      }
      const perNode = await Promise.all(
        client.nodes('master').map(async (node) => {
          const keys: string[] = [];
          let cursor = '0';
          do {
            const [next, batch] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
            cursor = next;
            keys.push(...batch);
          } while (cursor !== '0');
          return {
            challenges: keys.filter((k) => k.startsWith(`${prefix}ch:`)).length,
            repository: keys.filter((k) => k.includes('{')).length,
          };
        }),
      );
      expect(perNode).toHaveLength(3);
      for (const node of perNode) expect(node.challenges).toBeGreaterThan(50);
      expect(perNode.map((n) => n.repository).sort((a, b) => a - b)).toEqual([0, 0, 25]);
    } finally {
      client.disconnect();
    }
  });
});
