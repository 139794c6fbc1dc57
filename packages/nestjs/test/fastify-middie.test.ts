import middie from '@fastify/middie';
import { Logger, type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { signUp } from '@passgate/testing/contract';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PasskeysModule, passkeysRewriteUrl } from '../src/index.js';
import { AdminPasskeysController, type Booted, bootFastify, browser, testPassgate } from './helpers.js';

/** The app's own Nest middleware, so the test sees that the app's middie runs it. */
@Module({ controllers: [AdminPasskeysController] })
class AppModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply((_req: unknown, res: { setHeader(name: string, value: string): void }, next: () => void) => {
        res.setHeader('x-app-middleware', 'ran');
        next();
      })
      .forRoutes('{*path}');
  }
}

let booted: Booted | undefined;
afterEach(async () => {
  await booted?.close();
  booted = undefined;
});

const skipMiddie = () => new FastifyAdapter({ skipMiddie: true, rewriteUrl: passkeysRewriteUrl() });
const boot = (setup: Parameters<typeof bootFastify>[1], prefix?: string) =>
  bootFastify({ imports: [PasskeysModule.forRoot({ passgate: testPassgate(), prefix }), AppModule] }, setup);

const SUPPORTED = [
  [
    'on the adapter, before the app and @fastify/session',
    async () => {
      const adapter = skipMiddie();
      await adapter.getInstance().register(middie);
      return boot({ adapter });
    },
  ],
  [
    'on the app once created, after @fastify/session',
    () => boot({ adapter: skipMiddie(), register: (app: NestFastifyApplication) => app.register(middie) }),
  ],
] as const;

describe.each(SUPPORTED)(
  'NestJS on Fastify with skipMiddie: the app registers @fastify/middie %s',
  (_where, start) => {
    it("serves the contract where Nest mounts it, beside the app's middleware and routes", async () => {
      booted = await start();
      const client = browser(booted.url);
      const { answer, userId } = await signUp(client);
      expect(answer.status, answer.text).toBe(200);
      expect(answer.headers.get('x-app-middleware')).toBe('ran');
      expect((await client.get('/session')).body.user.id).toBe(userId);
      const malformed = await client.delete('/credentials/%ZZ');
      expect({ status: malformed.status, code: malformed.body.error.code }).toEqual({
        status: 404,
        code: 'not_found',
      });
      // An app route that merely contains the prefix stays the app's, and sees who is signed in.
      const me = await client.request('GET', '/admin/passkeys/me');
      expect({ status: me.status, body: me.body }).toEqual({ status: 200, body: { userId } });
    });
  },
);

describe('NestJS on Fastify with skipMiddie and middleware in a later hook', () => {
  it.each([
    ['/passkeys', '/passkeys'],
    ['/', ''],
  ])(
    'answers the contract at %s loudly (500 internal_error, logged once), not with a silent 404',
    async (prefix, root) => {
      const logged = vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      try {
        booted = await boot(
          {
            adapter: skipMiddie(),
            register: (app: NestFastifyApplication) => app.register(middie, { hook: 'preHandler' }),
          },
          prefix,
        );
        const client = browser(booted.url, root);
        for (const path of ['/login/options', '/register/options']) {
          const answer = await client.post(path, {});
          expect({ status: answer.status, body: answer.body }).toEqual({
            status: 500,
            body: { error: { code: 'internal_error', message: expect.any(String) } },
          });
        }
        expect(logged.mock.calls).toEqual([[expect.stringContaining('with its default hook (`onRequest`)')]]);
      } finally {
        logged.mockRestore();
      }
    },
  );
});
