import {
  Body,
  Controller,
  Get,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  Post,
} from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { expectError, signUp } from '@passgate/testing/contract';
import { afterEach, describe, expect, it } from 'vitest';
import { PasskeySession, PasskeysModule, passkeysRewriteUrl } from '../src/index.js';
import { type Booted, boot, bootFastify, browser, rawJson, testPassgate } from './helpers.js';

/**
 * The app's own routes beside a contract served at the root of the app: some share a first segment
 * with the contract's paths, some end like them one level deeper. None of them is the contract's.
 */
@Controller()
class AppRoutes {
  @Get('account')
  account(@PasskeySession() session: { userId: string } | null) {
    return { userId: session?.userId ?? null };
  }

  @Post('echo')
  echo(@Body() body: unknown) {
    return { body };
  }

  @Get('loginX')
  loginX() {
    return { app: 'loginX' };
  }

  @Get('admin/session')
  adminSession() {
    return { app: 'admin/session' };
  }

  @Post('admin/login/options')
  adminLoginOptions(@Body() body: unknown) {
    return { app: 'admin/login/options', body };
  }
}

let booted: Booted | undefined;
afterEach(async () => {
  await booted?.close();
  booted = undefined;
});

const PLATFORMS = [
  ['express', (globalPrefix?: string) => boot(metadata(), { globalPrefix })],
  [
    'fastify',
    (globalPrefix?: string) =>
      bootFastify(metadata(), {
        globalPrefix,
        adapter: new FastifyAdapter({ rewriteUrl: passkeysRewriteUrl({ prefix: '/' }) }),
      }),
  ],
] as const;

function metadata() {
  return {
    imports: [PasskeysModule.forRoot({ passgate: testPassgate(), prefix: '/' })],
    controllers: [AppRoutes],
  };
}

/** The app's root: the site root, or Nest's global prefix. */
const ROOTS = [
  ['at the site root', undefined, ''],
  ["behind Nest's global prefix", 'api', '/api'],
] as const;

describe.each(PLATFORMS)("PasskeysModule with prefix '/' on %s", (_platform, start) => {
  describe.each(ROOTS)('%s', (_where, globalPrefix, root) => {
    it("serves the contract at the app's root, with the ceremony cookie scoped to it", async () => {
      booted = await start(globalPrefix);
      const client = browser(booted.url, root);
      const options = await client.post('/login/options', {});
      expect({ status: options.status, cookies: options.setCookies }).toEqual({
        status: 200,
        cookies: [expect.stringContaining(`; Path=${root || '/'}; `)],
      });
      const { answer, userId } = await signUp(client);
      expect(answer.status, answer.text).toBe(200);
      expect((await client.get('/session')).body.user.id).toBe(userId);
      const account = await client.request('GET', `${root}/account`);
      expect({ status: account.status, body: account.body }).toEqual({ status: 200, body: { userId } });
      // The contract reads its own bodies (bounded), not the platform's parser.
      const big = await client.post('/login/options', undefined, rawJson(`"${'x'.repeat(200_000)}"`));
      expectError(big, 413, 'payload_too_large');
    });

    it('serves /credentials/:id, and a malformed id as the contract says', async () => {
      booted = await start(globalPrefix);
      const client = browser(booted.url, root);
      const { credentialId } = await signUp(client);
      const renamed = await client.patch(`/credentials/${credentialId}`, { nickname: 'Laptop' });
      expect([renamed.status, renamed.body.nickname]).toEqual([200, 'Laptop']);
      const foreign = await client.delete('/credentials/%ZZ', { origin: 'https://evil.example' });
      expectError(foreign, 403, 'forbidden_origin');
      expectError(await client.delete('/credentials/%ZZ'), 404, 'not_found');
    });

    it("leaves the app's routes to the app, whatever they look like", async () => {
      booted = await start(globalPrefix);
      const client = browser(booted.url, root);
      const loginX = await client.request('GET', `${root}/loginX`);
      expect({ status: loginX.status, body: loginX.body }).toEqual({ status: 200, body: { app: 'loginX' } });
      const adminSession = await client.request('GET', `${root}/admin/session`);
      expect({ status: adminSession.status, body: adminSession.body }).toEqual({
        status: 200,
        body: { app: 'admin/session' },
      });
      const adminOptions = await client.request('POST', `${root}/admin/login/options`, { json: { a: 1 } });
      expect({
        status: adminOptions.status,
        body: adminOptions.body,
        cookies: adminOptions.setCookies,
      }).toEqual({
        status: 201,
        body: { app: 'admin/login/options', body: { a: 1 } },
        cookies: [],
      });
      const echo = await client.request('POST', `${root}/echo`, { json: { hello: 'world' } });
      expect({ status: echo.status, body: echo.body }).toEqual({
        status: 201,
        body: { body: { hello: 'world' } },
      });
      expect((await client.request('GET', `${root}/nope`)).status).toBe(404);
    });
  });

  it("serves nothing outside Nest's global prefix", async () => {
    booted = await start('api');
    const client = browser(booted.url, '');
    for (const path of ['/login/options', '/elsewhere/login/options']) {
      const answer = await client.post(path, {});
      expect({ path, status: answer.status, cookies: answer.setCookies }).toEqual({
        path,
        status: 404,
        cookies: [],
      });
    }
  });
});

describe("PasskeysModule with prefix '/' on express: the app's body parser", () => {
  /** The app's own middleware, which reads the parsed body as Express middleware may. */
  @Module({
    imports: [PasskeysModule.forRoot({ passgate: testPassgate(), prefix: '/' })],
    controllers: [AppRoutes],
  })
  class AppModule implements NestModule {
    configure(consumer: MiddlewareConsumer): void {
      consumer
        .apply(
          (
            req: { body?: unknown },
            res: { setHeader(name: string, value: string): void },
            next: () => void,
          ) => {
            res.setHeader('x-body-seen', JSON.stringify(req.body ?? null));
            next();
          },
        )
        .forRoutes('{*path}');
    }
  }

  it("parses the app's routes before the app's middleware, as without the module", async () => {
    booted = await boot({ imports: [AppModule] }, { globalPrefix: 'api' });
    const echo = await browser(booted.url, '').request('POST', '/api/echo', { json: { hello: 'world' } });
    expect({ status: echo.status, seen: echo.headers.get('x-body-seen') }).toEqual({
      status: 201,
      seen: JSON.stringify({ hello: 'world' }),
    });
  });
});
