import { randomBytes } from 'node:crypto';
import type { SoftwareAuthenticator } from '@passgate/testing';
import { expect } from 'vitest';
import {
  loadDemoConfig,
  type RunningDemo,
  removeDemoData,
  type StartDemoOptions,
  startDemo,
} from '../src/index.js';

/** Talking to an in-process demo over HTTP, as a browser on `ORIGIN` would. */

/** A tiny cookie jar: name → value, whatever the path (every request here is same-site). */
export class CookieJar {
  readonly cookies = new Map<string, string>();
  store(res: Response): void {
    for (const header of res.headers.getSetCookie()) {
      const [pair = '', ...attributes] = header.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some(
        (a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a) || /^\s*max-age=0\b/i.test(a),
      );
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.cookies].map(([n, v]) => `${n}=${v}`).join('; ');
  }
}

/** The public origin the demos serve (both instances behind one origin, as behind a proxy). */
export const ORIGIN = 'http://localhost:3000';
/** The shared Redis and PostgreSQL the tests use (each test under prefixes of its own). */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Starts the Express demo in-process on a free port, on `ORIGIN`, with `store` and the shared
 * services; `options` should give it prefixes of its own there (`redisPrefix`, `postgresTablePrefix`).
 */
export function startStoreDemo(
  store: 'memory' | 'redis' | 'postgres',
  sessionSecret: string,
  options: StartDemoOptions,
): Promise<RunningDemo> {
  const env = {
    PORT: '0',
    ORIGIN,
    SESSION_SECRET: sessionSecret,
    PASSGATE_STORE: store,
    REDIS_URL,
    DATABASE_URL,
  };
  return startDemo(loadDemoConfig(env, { warn() {} }), { log: () => {}, host: '127.0.0.1', ...options });
}

/** Signs up a new user (`<prefix>-<random>`, returned) with `authenticator`; the sign-in lands in `jar`. */
export async function signUp(
  demo: RunningDemo,
  jar: CookieJar,
  authenticator: SoftwareAuthenticator,
  prefix: string,
): Promise<string> {
  const username = `${prefix}-${randomBytes(4).toString('hex')}`;
  const options = await call(demo, jar, 'POST', '/passkeys/register/options', { username });
  const registration = await authenticator.createCredential(options.body, { origin: ORIGIN });
  expect((await call(demo, jar, 'POST', '/passkeys/register/verify', registration)).status).toBe(200);
  return username;
}

export async function call(demo: RunningDemo, jar: CookieJar, method: string, path: string, body?: unknown) {
  const headers: Record<string, string> = {
    origin: ORIGIN,
    cookie: jar.header(),
    accept: 'application/json',
  };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`http://127.0.0.1:${demo.port}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    redirect: 'manual',
  });
  jar.store(res);
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as any) : null };
}

/** Deletes what a demo left in the shared services: Redis keys under `redisPrefix`, tables under `tablePrefix`. */
export function cleanUpSharedStores(
  urls: { redis: string; postgres: string },
  redisPrefix: string,
  tablePrefix: string,
): Promise<void> {
  return removeDemoData({ redisUrl: urls.redis, redisPrefix, databaseUrl: urls.postgres, tablePrefix });
}
