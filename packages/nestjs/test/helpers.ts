import 'reflect-metadata';
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import { Body, Controller, Get, type INestApplication, type ModuleMetadata, Post } from '@nestjs/common';
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
import { ContractClient, type SentRequest } from '@passgate/testing/contract';
import session from 'express-session';
import { PasskeySession, PasskeysModule, passkeysRewriteUrl } from '../src/index.js';

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

/** `setGlobalPrefix`'s options (`exclude`). */
export type GlobalPrefixOptions = Parameters<INestApplication['setGlobalPrefix']>[1];

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
    /** `setGlobalPrefix`'s options (`exclude`), with `globalPrefix`. */
    globalPrefixOptions?: GlobalPrefixOptions;
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
  if (setup.globalPrefix) app.setGlobalPrefix(setup.globalPrefix, setup.globalPrefixOptions);
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
 * listening on an ephemeral port; with the `rewriteUrl` the README asks for.
 */
export async function bootFastify(
  metadata: ModuleMetadata,
  setup: {
    session?: boolean;
    globalPrefix?: string;
    /** `setGlobalPrefix`'s options (`exclude`), with `globalPrefix`. */
    globalPrefixOptions?: GlobalPrefixOptions;
    /** The app's own adapter (default: one with the README's `rewriteUrl`). */
    adapter?: FastifyAdapter;
    /** Plugins the app registers after the session's (@fastify/middie, with `skipMiddie`). */
    register?: (app: NestFastifyApplication) => Promise<unknown>;
  } = {},
): Promise<Booted> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(
    setup.adapter ?? new FastifyAdapter({ rewriteUrl: passkeysRewriteUrl() }),
    {
      logger: false,
    },
  );
  if (setup.session !== false) {
    await app.register(fastifyCookie);
    await app.register(fastifySession, FASTIFY_SESSION);
  }
  await setup.register?.(app);
  if (setup.globalPrefix) app.setGlobalPrefix(setup.globalPrefix, setup.globalPrefixOptions);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${address.port}`, close: () => app.close() };
}

/**
 * A browser on {@link ORIGIN} (the testing kit's contract client), talking to the contract at
 * `prefix` (default `/passkeys`); the kit's `signUp`/`signIn` flows take it. App routes outside the
 * prefix go through `request` with the whole path.
 */
export function browser(url: string, prefix?: string): ContractClient {
  return new ContractClient(url, { origin: ORIGIN, prefix });
}

/** A body sent as is with `content-type: application/json` (bad JSON, a JSON array, a big body). */
export function rawJson(body: string, sent: SentRequest = {}): SentRequest {
  return { body, contentType: 'application/json', ...sent };
}

/**
 * An app's own routes whose paths contain the contract's prefix (`/admin/passkeys/...`), one of them
 * shaped like a contract route: they are the app's, on either platform.
 */
@Controller('admin/passkeys')
export class AdminPasskeysController {
  @Get('credentials')
  list() {
    return { admin: true };
  }

  @Get('me')
  me(@PasskeySession() session: { userId: string } | null) {
    return { userId: session?.userId ?? null };
  }

  @Post('login/options')
  options(@Body() body: unknown) {
    return { body };
  }
}

/** The module with its defaults beside `AdminPasskeysController`, behind Nest's global prefix `api`. */
export function bootBesideAdminRoutes(start: typeof boot | typeof bootFastify = boot): Promise<Booted> {
  return start(
    {
      imports: [PasskeysModule.forRoot({ passgate: testPassgate() })],
      controllers: [AdminPasskeysController],
    },
    { globalPrefix: 'api' },
  );
}
