#!/usr/bin/env node
/**
 * Soak test (issue 12; not in CI): the Express demo app on Redis + PostgreSQL (challenges, rate
 * limits and sessions in Redis, accounts and passkeys in PostgreSQL) under mixed traffic — sign-ups,
 * sign-ins (usernameless and username-first), management (list, rename, add-less delete attempts),
 * abandoned ceremonies and bad input — for SOAK_SECONDS (default 600). Prints the figures: answers
 * by status, zero 5xx expected, RSS over time, and the ceremony keys left once their TTL has passed.
 *
 *   pnpm soak                      # 10 minutes
 *   SOAK_SECONDS=60 pnpm soak      # a short run
 *
 * Needs the build (`pnpm build`), Redis at REDIS_URL and PostgreSQL at DATABASE_URL (the CI defaults).
 * It uses its own key prefix and table prefix and removes them at the end.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { createPassgate } from '@passgate/core';
import { createPostgresStores, migrate } from '@passgate/postgres';
import { createRedisRateLimiters, createRedisStores } from '@passgate/redis';
import { SoftwareAuthenticator } from '@passgate/testing';
import { RedisStore } from 'connect-redis';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createDemoApp, loadDemoConfig, resolveOrigin } from '../dist/index.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
const CLIENTS = Number(process.env.SOAK_CLIENTS ?? 8);
const TTL_SECONDS = 5;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const tag = randomBytes(4).toString('hex');
const prefix = `soak-${tag}:`;
const tablePrefix = `soak_${tag}_`;

const client = new Redis(REDIS_URL, {
  autoResendUnfulfilledCommands: false,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  commandTimeout: 1000,
});
client.on('error', () => {});
const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 10, query_timeout: 5000 });
pool.on('error', () => {});
await migrate({ pool, tablePrefix });

const errors = [];
const logger = {
  debug() {},
  info() {},
  warn() {},
  error: (message, fields) => errors.push(`${message} ${JSON.stringify(fields ?? {})}`),
};

const server = createServer();
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const { port } = server.address();
const config = resolveOrigin(
  loadDemoConfig({ PORT: String(port), SESSION_SECRET: `soak-${tag}-session-secret` }),
  port,
);
const pgStores = createPostgresStores({ pool, tablePrefix });
const redisStores = createRedisStores({ client, prefix });
const passgate = createPassgate({
  rp: { name: 'Passgate soak', id: config.rpId, origins: [config.origin] },
  stores: {
    challenges: redisStores.challenges,
    credentials: pgStores.credentials,
    accounts: pgStores.accounts,
  },
  secret: config.passgateSecret,
  logger,
  policy: { challengeTtlSeconds: TTL_SECONDS },
  reauthenticationWindowSeconds: 3600,
  rateLimits: createRedisRateLimiters({ client, prefix, perIp: { points: 1_000_000, durationSeconds: 60 } }),
});
const backend = {
  passgate,
  sessionStore: new RedisStore({ client, prefix: `${prefix}sess:` }),
  description: 'soak',
  close: async () => {},
};
server.on('request', createDemoApp(config, backend));
const base = `http://127.0.0.1:${port}/passkeys`;

const statuses = new Map();
const byKind = new Map();
let fiveHundreds = 0;
const count = (kind, status) => {
  statuses.set(status, (statuses.get(status) ?? 0) + 1);
  const key = `${kind} ${status}`;
  byKind.set(key, (byKind.get(key) ?? 0) + 1);
  if (status >= 500) fiveHundreds++;
};

async function call(kind, method, path, { body, raw, jar } = {}) {
  const headers = { origin: config.origin };
  if (body !== undefined || raw !== undefined) headers['content-type'] = 'application/json';
  if (jar && jar.size > 0) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await response.text();
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const [name, ...value] = pair.split('=');
    if (!jar) continue;
    if (/max-age=0|expires=thu, 01 jan 1970/i.test(line) || value.join('=') === '') jar.delete(name);
    else jar.set(name, value.join('='));
  }
  count(kind, response.status);
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, json };
}

const garbage = () => {
  const choices = [
    () => '{',
    () => JSON.stringify({ id: randomBytes(8).toString('base64url'), response: {} }),
    () => JSON.stringify({ username: 'x'.repeat(100) }),
    () => `${'['.repeat(3000)}${']'.repeat(3000)}`,
    () => randomBytes(64).toString('latin1'),
    () => JSON.stringify({ rawId: 5, type: 'public-key', response: { clientDataJSON: '%%%' } }),
  ];
  return choices[Math.floor(Math.random() * choices.length)]();
};

let stopping = false;
let users = 0;
async function clientLoop(n) {
  const authenticator = new SoftwareAuthenticator({ algorithms: ['ES256'] });
  const jar = new Map();
  let username;
  let credentialId;
  while (!stopping) {
    const roll = Math.random();
    try {
      if (credentialId === undefined || roll < 0.05) {
        username = `soak-${tag}-${n}-${++users}`;
        // A fresh cookie jar: signed out, so this is a sign-up (not a passkey added to the account).
        const ceremony = new Map();
        const opts = await call('register/options', 'POST', '/register/options', {
          body: { username },
          jar: ceremony,
        });
        if (opts.status !== 200) continue;
        const created = await authenticator.createCredential(opts.json, { origin: config.origin });
        jar.clear();
        for (const [k, v] of ceremony) jar.set(k, v);
        const verified = await call('register/verify', 'POST', '/register/verify', { body: created, jar });
        if (verified.status === 200) credentialId = created.id;
      } else if (roll < 0.45) {
        const usernameFirst = roll < 0.25;
        const opts = await call('login/options', 'POST', '/login/options', {
          body: usernameFirst ? { username } : {},
          jar,
        });
        if (opts.status !== 200) continue;
        const assertion = await authenticator.getAssertion(opts.json, {
          origin: config.origin,
          credentialId,
        });
        await call('login/verify', 'POST', '/login/verify', { body: assertion, jar });
      } else if (roll < 0.6) {
        await call('GET /credentials', 'GET', '/credentials', { jar });
        await call('GET /session', 'GET', '/session', { jar });
      } else if (roll < 0.7) {
        await call('PATCH /credentials', 'PATCH', `/credentials/${credentialId}`, {
          body: { nickname: `key ${Math.floor(Math.random() * 1000)}` },
          jar,
        });
      } else if (roll < 0.75) {
        // The only passkey: 409 last_credential, nothing deleted.
        await call('DELETE /credentials', 'DELETE', `/credentials/${credentialId}`, { jar });
      } else if (roll < 0.85) {
        // Abandoned ceremonies: options never verified (their keys must expire).
        await call(
          'abandoned options',
          'POST',
          Math.random() < 0.5 ? '/login/options' : '/register/options',
          {
            body: Math.random() < 0.5 ? {} : { username: `ghost-${tag}-${Math.floor(Math.random() * 1e6)}` },
          },
        );
      } else {
        const path = ['/login/verify', '/register/verify', '/login/options', '/register/options'][
          Math.floor(Math.random() * 4)
        ];
        await call(`bad input ${path}`, 'POST', path, { raw: garbage(), jar: new Map() });
      }
    } catch (error) {
      count(`client error ${error?.name ?? 'Error'}`, 0);
    }
  }
}

const rss = [];
const sampleRss = () => rss.push(Math.round(process.memoryUsage().rss / 2 ** 20));
sampleRss();
const sampler = setInterval(sampleRss, 10_000);
const started = Date.now();
console.log(
  `soak: ${SECONDS} s, ${CLIENTS} clients, demo at ${config.origin} (port ${port}), challenge TTL ${TTL_SECONDS} s`,
);
const loops = Array.from({ length: CLIENTS }, (_, i) => clientLoop(i));
await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
stopping = true;
await Promise.all(loops);
clearInterval(sampler);
sampleRss();
const elapsed = (Date.now() - started) / 1000;

// Ceremony keys: every ceremony's TTL has passed after TTL + 2 s.
await new Promise((resolve) => setTimeout(resolve, (TTL_SECONDS + 2) * 1000));
let cursor = '0';
let ceremonyKeys = 0;
do {
  const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}ch:*`, 'COUNT', 1000);
  cursor = next;
  ceremonyKeys += keys.length;
} while (cursor !== '0');
const total = [...statuses.values()].reduce((a, b) => a + b, 0);
const orphans = await pool.query(
  `SELECT count(*)::int AS n FROM "${tablePrefix}accounts" a WHERE NOT EXISTS (SELECT 1 FROM "${tablePrefix}credentials" c WHERE c.user_handle = a.user_handle)`,
);
const accounts = await pool.query(`SELECT count(*)::int AS n FROM "${tablePrefix}accounts"`);

console.log(
  [
    `soak finished: ${total} requests in ${elapsed.toFixed(0)} s (${(total / elapsed).toFixed(0)}/s), ${CLIENTS} clients`,
    `  5xx: ${fiveHundreds}; errors logged: ${errors.length}${errors.length ? ` (first: ${errors[0]})` : ''}`,
    `  statuses: ${[...statuses]
      .sort(([a], [b]) => a - b)
      .map(([s, n]) => `${s}:${n}`)
      .join(' ')}`,
    `  by kind: ${[...byKind]
      .sort()
      .map(([k, n]) => `${k}=${n}`)
      .join(', ')}`,
    `  RSS MiB (every 10 s): first ${rss[0]}, last ${rss.at(-1)}, max ${Math.max(...rss)}, after 1 min ${rss[6] ?? '-'}`,
    `  accounts: ${accounts.rows[0].n}, accounts without a passkey: ${orphans.rows[0].n}`,
    `  ceremony keys left ${TTL_SECONDS + 2} s after the last request: ${ceremonyKeys}`,
  ].join('\n'),
);

// Clean up: keys under the prefix, the tables.
cursor = '0';
do {
  const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
  cursor = next;
  if (keys.length > 0) await client.unlink(...keys);
} while (cursor !== '0');
for (const table of ['credentials', 'challenges', 'migrations', 'accounts']) {
  await pool.query(`DROP TABLE IF EXISTS "${tablePrefix}${table}" CASCADE`);
}
await new Promise((resolve) => server.close(resolve));
server.closeAllConnections?.();
client.disconnect();
await pool.end();
process.exit(
  fiveHundreds === 0 && errors.length === 0 && ceremonyKeys === 0 && orphans.rows[0].n === 0 ? 0 : 1,
);
