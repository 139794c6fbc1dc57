import {
  Body,
  Controller,
  Get,
  Inject,
  Injectable,
  Module,
  type PipeTransform,
  Post,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { createMemoryStores, PassgateError, type PasskeySession as Session } from '@passgate/core';
import { signIn, signUp } from '@passgate/testing/contract';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CurrentUser,
  PASSGATE,
  PASSGATE_STORES,
  PasskeySession,
  PasskeysExceptionFilter,
  PasskeysGuard,
  PasskeysModule,
  type PasskeysOptionsFactory,
  PasskeysService,
  Public,
  RequireRecentAuthentication,
} from '../src/index.js';
import {
  type Booted,
  boot,
  bootBesideAdminRoutes,
  bootFastify,
  browser,
  ORIGIN,
  passgateOptions,
  rawJson,
  testPassgate,
} from './helpers.js';

let booted: Booted | undefined;
afterEach(async () => {
  await booted?.close();
  booted = undefined;
});

/** A stand-in for @nestjs/config: a module exporting an injectable configuration. */
const APP_CONFIG = Symbol('APP_CONFIG');
@Module({
  providers: [{ provide: APP_CONFIG, useValue: { prefix: '/auth/passkeys', rpName: 'From config' } }],
  exports: [APP_CONFIG],
})
class ConfigModule {}

const PLATFORMS = [
  ['express', boot],
  ['fastify', bootFastify],
] as const;

describe.each(PLATFORMS)('PasskeysModule.forRoot on %s: prefixes and paths', (_platform, boot) => {
  it("puts Nest's global prefix in front, in the routes and the cookie's Path", async () => {
    booted = await boot(
      { imports: [PasskeysModule.forRoot({ passgate: testPassgate() })] },
      { globalPrefix: 'api' },
    );
    const client = browser(booted.url, '/api/passkeys');
    const options = await client.post('/login/options', {});
    expect(options.status).toBe(200);
    expect(options.setCookies[0]).toContain('Path=/api/passkeys;');
    expect((await signUp(client, { username: 'dave' })).answer.status).toBe(200);
    // The platform's body parser is kept off the prefixed passkey routes too.
    const big = await client.post(
      '/login/options',
      undefined,
      rawJson(JSON.stringify({ a: 'x'.repeat(200_000) })),
    );
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('payload_too_large');
  });

  it('serves GET /.well-known/webauthn at the site root, outside the global prefix', async () => {
    const relatedOrigins = ['https://example.co.uk', 'https://example-shop.com'];
    const passgate = testPassgate({
      rp: { name: 'Related', id: 'localhost', origins: [ORIGIN], relatedOrigins },
    });
    booted = await boot({ imports: [PasskeysModule.forRoot({ passgate })] }, { globalPrefix: 'api' });
    const client = browser(booted.url);
    const answer = await client.request('GET', '/.well-known/webauthn');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(answer.body).toEqual({ origins: relatedOrigins });
    expect((await client.request('GET', '/api/.well-known/webauthn')).status).toBe(404);
  });

  it("serves the contract only where Nest mounts it: an app route that merely contains the prefix stays the app's", async () => {
    booted = await bootBesideAdminRoutes(boot);
    const client = browser(booted.url);
    const admin = await client.request('GET', '/api/admin/passkeys/credentials');
    expect({ status: admin.status, body: admin.body }).toEqual({ status: 200, body: { admin: true } });
    // Neither without the global prefix nor under another path: those are Nest's 404s, not the contract.
    for (const path of ['/passkeys/login/options', '/elsewhere/passkeys/login/options']) {
      const answer = await client.request('POST', path, { json: {} });
      expect({ path, status: answer.status, cookies: answer.setCookies }).toEqual({
        path,
        status: 404,
        cookies: [],
      });
    }
    expect((await client.request('POST', '/api/passkeys/login/options', { json: {} })).status).toBe(200);
  });

  it('answers a malformed id behind the global prefix as the contract says (403 first, then 401 signed out)', async () => {
    booted = await bootBesideAdminRoutes(boot);
    const client = browser(booted.url, '/api/passkeys');
    const foreign = await client.delete('/credentials/%ZZ', { origin: 'https://evil.example' });
    expect({ status: foreign.status, body: foreign.body }).toEqual({
      status: 403,
      body: { error: { code: 'forbidden_origin', message: expect.any(String) } },
    });
    const signedOut = await client.patch('/credentials/%E0%A4%A', { nickname: 'x' });
    expect({ status: signedOut.status, code: signedOut.body.error.code }).toEqual({
      status: 401,
      code: 'unauthenticated',
    });
  });

  it('sets req.passkey on app routes whose path contains the prefix, as on any other', async () => {
    booted = await bootBesideAdminRoutes(boot);
    const client = browser(booted.url, '/api/passkeys');
    const { userId } = await signUp(client);
    const me = await client.request('GET', '/api/admin/passkeys/me');
    expect({ status: me.status, body: me.body }).toEqual({ status: 200, body: { userId } });
  });

  it('answers unknown paths below the prefix with 404', async () => {
    booted = await boot({ imports: [PasskeysModule.forRoot({ passgate: testPassgate() })] });
    expect((await browser(booted.url).get('/nope')).status).toBe(404);
  });
});

describe('PasskeysModule.forRoot', () => {
  it('serves the contract at the default prefix and signs up with express-session', async () => {
    booted = await boot({ imports: [PasskeysModule.forRoot({ passgate: testPassgate() })] });
    const client = browser(booted.url);
    expect((await client.get('/session')).status).toBe(401);
    const { answer: verify } = await signUp(client, { username: 'alice' });
    expect(verify.status).toBe(200);
    expect(verify.body.user.name).toBe('alice');
    const session = await client.get('/session');
    expect(session.status).toBe(200);
    expect(session.body.user.name).toBe('alice');
    expect((await client.post('/logout')).status).toBe(204);
    expect((await client.get('/session')).status).toBe(401);
  });

  it('builds the Passgate instance from options with their own stores', async () => {
    booted = await boot({ imports: [PasskeysModule.forRoot(passgateOptions())] });
    const client = browser(booted.url);
    expect((await signUp(client, { username: 'bob' })).answer.status).toBe(200);
  });

  it('serves a non-default prefix, with the ceremony cookie scoped to it, and nothing at the default', async () => {
    booted = await boot({
      imports: [
        PasskeysModule.forRoot({ passgate: testPassgate(), prefix: 'auth/passkeys/', cookieName: 'cer' }),
      ],
    });
    const client = browser(booted.url, '/auth/passkeys');
    const options = await client.post('/login/options', {});
    expect(options.status).toBe(200);
    expect(options.setCookies[0]).toMatch(
      /^cer=[^;]+; Max-Age=300; Path=\/auth\/passkeys; HttpOnly; SameSite=Strict$/,
    );
    expect((await client.request('POST', '/passkeys/login/options', { json: {} })).status).toBe(404);
    expect((await signUp(client, { username: 'carol' })).answer.status).toBe(200);
    expect((await client.get('/session')).status).toBe(200);
  });

  it('controller: false serves no routes but keeps the service', async () => {
    @Controller('mine')
    class Mine {
      constructor(@Inject(PasskeysService) private readonly passkeys: PasskeysService) {}
      @Post('options')
      async options() {
        return (await this.passkeys.startAuthentication()).options;
      }
    }
    booted = await boot({
      imports: [PasskeysModule.forRoot({ passgate: testPassgate(), controller: false })],
      controllers: [Mine],
    });
    const client = browser(booted.url);
    expect((await client.post('/login/options', {})).status).toBe(404);
    const mine = await client.request('POST', '/mine/options', { json: {} });
    expect(mine.status).toBe(201);
    expect(typeof mine.body.challenge).toBe('string');
  });

  it('fails at boot without stores, naming the ways to give them', async () => {
    const { stores: _stores, ...withoutStores } = passgateOptions();
    await expect(boot({ imports: [PasskeysModule.forRoot(withoutStores)] })).rejects.toThrow(
      /PASSGATE_STORES/,
    );
  });
});

describe('PasskeysModule.forRootAsync', () => {
  it('takes options from an imported config module through inject', async () => {
    booted = await boot({
      imports: [
        PasskeysModule.forRootAsync({
          imports: [ConfigModule],
          inject: [APP_CONFIG],
          useFactory: (config: { prefix: string; rpName: string }) => ({
            ...passgateOptions({ rp: { ...passgateOptions().rp, name: config.rpName } }),
            prefix: config.prefix,
          }),
        }),
      ],
    });
    const client = browser(booted.url, '/auth/passkeys');
    const options = await client.post('/register/options', { username: 'erin' });
    expect(options.status).toBe(200);
    expect(options.body.rp.name).toBe('From config');
    expect(options.setCookies[0]).toContain('Path=/auth/passkeys;');
  });

  it('plugs stores in through the PASSGATE_STORES token from another module', async () => {
    const stores = createMemoryStores();
    let created = 0;
    @Module({
      providers: [
        {
          provide: PASSGATE_STORES,
          useFactory: () => {
            created++;
            return stores;
          },
        },
      ],
      exports: [PASSGATE_STORES],
    })
    class StoresModule {}
    const { stores: _unused, ...config } = passgateOptions();
    booted = await boot({
      imports: [PasskeysModule.forRootAsync({ imports: [StoresModule], useFactory: () => config })],
    });
    const client = browser(booted.url);
    expect((await signUp(client, { username: 'frank' })).answer.status).toBe(200);
    expect(created).toBe(1);
    expect(await stores.accounts.findByUsername('frank')).not.toBeNull();
  });

  it('explicit stores win over the PASSGATE_STORES token', async () => {
    const injected = createMemoryStores();
    const own = createMemoryStores();
    @Module({ providers: [{ provide: PASSGATE_STORES, useValue: injected }], exports: [PASSGATE_STORES] })
    class StoresModule {}
    booted = await boot({
      imports: [
        PasskeysModule.forRootAsync({
          imports: [StoresModule],
          useFactory: () => passgateOptions({ stores: own }),
        }),
      ],
    });
    expect((await signUp(browser(booted.url), { username: 'gina' })).answer.status).toBe(200);
    expect(await own.accounts.findByUsername('gina')).not.toBeNull();
    expect(await injected.accounts.findByUsername('gina')).toBeNull();
  });
});

describe('PasskeysModule.forRootAsync with useClass', () => {
  it('calls createPasskeysOptions() of an options factory class', async () => {
    @Injectable()
    class PasskeysConfig implements PasskeysOptionsFactory {
      createPasskeysOptions() {
        return { ...passgateOptions(), prefix: '/from-class' };
      }
    }
    booted = await boot({ imports: [PasskeysModule.forRootAsync({ useClass: PasskeysConfig })] });
    expect((await browser(booted.url, '/from-class').post('/login/options', {})).status).toBe(200);
  });
});

describe('isGlobal', () => {
  @Controller('feature')
  class FeatureController {
    constructor(@Inject(PasskeysService) private readonly passkeys: PasskeysService) {}
    @Get()
    get() {
      return { hasPassgate: this.passkeys.passgate !== undefined };
    }
  }
  @Module({ controllers: [FeatureController] })
  class FeatureModule {}

  it('makes the service injectable in modules that do not import PasskeysModule', async () => {
    booted = await boot({
      imports: [PasskeysModule.forRoot({ passgate: testPassgate(), isGlobal: true }), FeatureModule],
    });
    expect((await browser(booted.url).request('GET', '/feature')).body).toEqual({ hasPassgate: true });
  });

  it('without isGlobal, such a module cannot resolve it', async () => {
    await expect(
      boot({ imports: [PasskeysModule.forRoot({ passgate: testPassgate() }), FeatureModule] }),
    ).rejects.toThrow(/PasskeysService/);
  });
});

describe.each(PLATFORMS)('guard and decorators on %s', (_platform, boot) => {
  let clock = Date.UTC(2030, 0, 1);
  const now = () => clock;

  @Controller('app')
  class AppController {
    @Get('me')
    @UseGuards(PasskeysGuard)
    me(@PasskeySession() session: Session | null, @CurrentUser() user: unknown) {
      return { userId: session?.userId, user };
    }

    @Get('open')
    @Public()
    open(@PasskeySession() session: Session | null, @CurrentUser() user: unknown) {
      return { signedIn: session !== null, user };
    }

    @Post('sensitive')
    @RequireRecentAuthentication(60)
    sensitive() {
      return { done: true };
    }

    @Post('sensitive-uv')
    @RequireRecentAuthentication(undefined, { userVerified: true })
    sensitiveUv() {
      return { done: true };
    }

    @Post('echo')
    @Public()
    echo(@Body() body: unknown, @PasskeySession() session: Session | null) {
      return { body, signedIn: session !== null };
    }
  }

  async function bootGuarded(global: boolean) {
    clock = Date.UTC(2030, 0, 1);
    return boot({
      imports: [PasskeysModule.forRoot({ passgate: testPassgate({ now }) })],
      controllers: [AppController],
      providers: global ? [{ provide: APP_GUARD, useClass: PasskeysGuard }] : [],
    });
  }

  it('PasskeysGuard: 401 unauthenticated with the contract body, then the session and user', async () => {
    booted = await bootGuarded(false);
    const client = browser(booted.url);
    const denied = await client.request('GET', '/app/me');
    expect(denied.status).toBe(401);
    expect(denied.body).toEqual({ error: { code: 'unauthenticated', message: expect.any(String) } });
    const { answer: verify } = await signUp(client, { username: 'hana' });
    const me = await client.request('GET', '/app/me');
    expect(me.status).toBe(200);
    expect(me.body).toEqual({ userId: verify.body.user.id, user: verify.body.user });
  });

  it('as APP_GUARD: @Public routes stay open, and still see who is signed in', async () => {
    booted = await bootGuarded(true);
    const client = browser(booted.url);
    expect((await client.request('GET', '/app/me')).status).toBe(401);
    expect((await client.request('GET', '/app/open')).body).toEqual({ signedIn: false, user: null });
    // The passkey routes are not behind the global guard.
    const { answer: verify } = await signUp(client, { username: 'ivan' });
    expect(verify.status).toBe(200);
    expect((await client.request('GET', '/app/open')).body).toEqual({
      signedIn: true,
      user: verify.body.user,
    });
    expect((await client.request('GET', '/app/me')).status).toBe(200);
  });

  it('@RequireRecentAuthentication: 401 reauthentication_required once the sign-in is too old, until a new sign-in', async () => {
    booted = await bootGuarded(false);
    const client = browser(booted.url);
    expect((await client.request('POST', '/app/sensitive')).body.error.code).toBe('unauthenticated');
    const { authenticator } = await signUp(client, { username: 'judy' });
    expect((await client.request('POST', '/app/sensitive')).status).toBe(201);
    clock += 61_000;
    const stale = await client.request('POST', '/app/sensitive');
    expect(stale.status).toBe(401);
    expect(stale.body.error.code).toBe('reauthentication_required');
    expect((await signIn(client, authenticator)).status).toBe(200);
    expect((await client.request('POST', '/app/sensitive')).status).toBe(201);
  });

  it("the app's own routes keep the platform's body parser and see who is signed in", async () => {
    booted = await bootGuarded(false);
    const client = browser(booted.url);
    expect((await client.request('POST', '/app/echo', { json: { hello: 'world' } })).body).toEqual({
      body: { hello: 'world' },
      signedIn: false,
    });
    await signUp(client, { username: 'lena' });
    expect((await client.request('POST', '/app/echo', { json: { n: 1 } })).body).toEqual({
      body: { n: 1 },
      signedIn: true,
    });
  });

  it('@RequireRecentAuthentication({ userVerified }) refuses a sign-in without user verification', async () => {
    booted = await bootGuarded(false);
    const client = browser(booted.url);
    const { authenticator } = await signUp(client, { username: 'kim' });
    expect((await client.request('POST', '/app/sensitive-uv')).status).toBe(201);
    authenticator.setUserVerification(false);
    expect((await signIn(client, authenticator)).status).toBe(200);
    const refused = await client.request('POST', '/app/sensitive-uv');
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('reauthentication_required');
  });
});

describe.each(PLATFORMS)('PasskeysExceptionFilter on %s', (_platform, boot) => {
  @Injectable()
  class Boom implements PipeTransform {
    transform(): never {
      throw new PassgateError('rate_limited', undefined, { retryAfterSeconds: 7 });
    }
  }

  @Controller('filtered')
  @UseFilters(PasskeysExceptionFilter)
  class Filtered {
    constructor(@Inject(PASSGATE) private readonly passgate: { getAccount(s: null): Promise<unknown> }) {}
    @Get('account')
    account() {
      return this.passgate.getAccount(null);
    }
    @Get('limited')
    limited() {
      return new Boom().transform();
    }
    @Get('other')
    other() {
      throw new Error('not ours');
    }
  }

  it("answers PassgateErrors with the contract's status, body and Retry-After; leaves others to Nest", async () => {
    booted = await boot({
      imports: [PasskeysModule.forRoot({ passgate: testPassgate() })],
      controllers: [Filtered],
    });
    const client = browser(booted.url);
    const account = await client.request('GET', '/filtered/account');
    expect(account.status).toBe(401);
    expect(account.body.error.code).toBe('unauthenticated');
    expect(account.headers.get('cache-control')).toBe('no-store');
    const limited = await client.request('GET', '/filtered/limited');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    const other = await client.request('GET', '/filtered/other');
    expect(other.status).toBe(500);
    expect(other.body).toEqual({ statusCode: 500, message: 'Internal server error' });
  });
});

describe.each(PLATFORMS)('session hooks on %s', (platform, boot) => {
  it("calls getSignedInUser, onSignIn and onSignOut with the platform's request and response", async () => {
    const signedIn = new Map<string, Session>();
    const calls: string[] = [];
    booted = await boot(
      {
        imports: [
          PasskeysModule.forRoot({
            passgate: testPassgate(),
            session: {
              getSignedInUser: (req) => signedIn.get(String(req.headers['x-user'] ?? '')) ?? null,
              onSignIn: (_req, res, session) => {
                calls.push('signIn');
                signedIn.set('token', session);
                // Express's response, or Fastify's reply.
                if (platform === 'fastify') res.header('x-token', 'token');
                else res.setHeader('x-token', 'token');
              },
              onSignOut: (req) => {
                calls.push('signOut');
                signedIn.delete(String(req.headers['x-user']));
              },
            },
          }),
        ],
      },
      { session: false },
    );
    const client = browser(booted.url);
    const { answer: verify } = await signUp(client, { username: 'lee' });
    expect(verify.headers.get('x-token')).toBe('token');
    const asToken = { headers: { 'x-user': 'token' } };
    expect((await client.get('/session', asToken)).status).toBe(200);
    expect((await client.post('/logout', undefined, asToken)).status).toBe(204);
    expect((await client.get('/session', asToken)).status).toBe(401);
    expect(calls).toEqual(['signIn', 'signOut']);
  });
});

describe('names before the Passkeys… stem', () => {
  it('are the same classes, so existing imports and injection tokens keep working', async () => {
    const current = await import('../src/index.js');
    expect(current.PasskeyAuthGuard).toBe(current.PasskeysGuard);
    expect(current.PasskeyExceptionFilter).toBe(current.PasskeysExceptionFilter);
    expect(current.PasskeySessionMiddleware).toBe(current.PasskeysSessionMiddleware);
  });
});
