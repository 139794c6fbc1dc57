import 'reflect-metadata';
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import type { INestApplication, ModuleMetadata } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import {
  createMemoryStores,
  createPassgate,
  type Passgate,
  type PassgateOptions,
  silentLogger,
} from '@passgate/core';
import { SoftwareAuthenticator } from '@passgate/testing';
import session from 'express-session';

export const ORIGIN = 'http://localhost:3000';
export const SECRET = 'a-test-secret-of-at-least-32-bytes!!';

export function passgateOptions(overrides: Partial<PassgateOptions> = {}): PassgateOptions {
  return {
    rp: { name: 'Passgate test', id: 'localhost', origins: [ORIGIN] },
    stores: createMemoryStores(),
    secret: SECRET,
    logger: silentLogger,
    ...overrides,
  };
}

export function testPassgate(overrides: Partial<PassgateOptions> = {}): Passgate {
  return createPassgate(passgateOptions(overrides));
}

export interface Booted {
  app: INestApplication;
  url: string;
  close(): Promise<void>;
}

/** A Nest app on Express with express-session (MemoryStore), listening on an ephemeral port. */
export async function boot(
  metadata: ModuleMetadata,
  setup: {
    session?: boolean;
    globalPrefix?: string;
    bodyParser?: boolean;
    configure?: (app: NestExpressApplication) => void;
  } = {},
): Promise<Booted> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({
    logger: false,
    ...(setup.bodyParser === false ? { bodyParser: false } : {}),
  });
  setup.configure?.(app);
  if (setup.session !== false) {
    app.use(session({ secret: SECRET, resave: false, saveUninitialized: false }));
  }
  if (setup.globalPrefix) app.setGlobalPrefix(setup.globalPrefix);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${address.port}`, close: () => app.close() };
}

/** @fastify/session's options in these tests: express-session's defaults, not Secure on http. */
export const FASTIFY_SESSION = {
  secret: SECRET,
  cookieName: 'connect.sid',
  saveUninitialized: false,
  rolling: false,
  cookie: { secure: false },
};

/**
 * A Nest app on Fastify with @fastify/session (its memory store; cookie `connect.sid`, not rolling
 * and not saved uninitialized, as express-session's defaults; not Secure on this http test server),
 * listening on an ephemeral port.
 */
export async function bootFastify(
  metadata: ModuleMetadata,
  setup: { session?: boolean; globalPrefix?: string } = {},
): Promise<Booted> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
    logger: false,
  });
  if (setup.session !== false) {
    await app.register(fastifyCookie);
    await app.register(fastifySession, FASTIFY_SESSION);
  }
  if (setup.globalPrefix) app.setGlobalPrefix(setup.globalPrefix);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${address.port}`, close: () => app.close() };
}

export interface Reply {
  status: number;
  body: any;
  headers: Headers;
  cookies: string[];
}

/** fetch with a cookie jar, JSON in and out, and the browser's Origin on state-changing requests. */
export class Client {
  readonly jar = new Map<string, string>();

  constructor(readonly base: string) {}

  async request(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply> {
    const init: RequestInit = { method, headers: { ...headers } };
    const h = init.headers as Record<string, string>;
    if (method !== 'GET' && h['origin'] === undefined) h['origin'] = ORIGIN;
    if (body !== undefined) {
      h['content-type'] ??= 'application/json';
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
    }
    if (this.jar.size > 0) h['cookie'] = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(`${this.base}${path}`, init);
    const cookies = res.headers.getSetCookie();
    for (const cookie of cookies) {
      const [pair = ''] = cookie.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(cookie)) this.jar.delete(name);
      else this.jar.set(name, value);
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {}
    return { status: res.status, body: parsed, headers: res.headers, cookies };
  }

  get(path: string, headers?: Record<string, string>) {
    return this.request('GET', path, undefined, headers);
  }

  post(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.request('POST', path, body, headers);
  }
}

/** Signs up `username` with a new software passkey; the client is then signed in. */
export async function signUp(
  client: Client,
  username: string,
  prefix = '/passkeys',
  authenticator = new SoftwareAuthenticator(),
): Promise<{ authenticator: SoftwareAuthenticator; verify: Reply }> {
  const options = await client.post(`${prefix}/register/options`, { username });
  if (options.status !== 200)
    throw new Error(`register/options: ${options.status} ${JSON.stringify(options.body)}`);
  const response = await authenticator.createCredential(options.body, { origin: ORIGIN });
  const verify = await client.post(`${prefix}/register/verify`, response);
  return { authenticator, verify };
}

/** Signs in with the authenticator's discoverable passkey. */
export async function signIn(client: Client, authenticator: SoftwareAuthenticator, prefix = '/passkeys') {
  const options = await client.post(`${prefix}/login/options`, {});
  const response = await authenticator.getAssertion(options.body, { origin: ORIGIN });
  return client.post(`${prefix}/login/verify`, response);
}
