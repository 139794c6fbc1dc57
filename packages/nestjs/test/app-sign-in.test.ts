import { Controller, Get, Post, UseGuards } from '@nestjs/common';
import { type SignIn, silentLogger } from '@passgate/core';
import { SoftwareAuthenticator } from '@passgate/testing';
import { ContractClient, ORIGIN, RP_ID, SimulatedApplication } from '@passgate/testing/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CurrentUser,
  PasskeySession,
  PasskeysGuard,
  PasskeysModule,
  PasskeysService,
  Public,
  RequireRecentAuthentication,
} from '../src/index.js';
import { type Booted, boot, testPassgate } from './helpers.js';

/**
 * The NestJS guard and decorators with the application's own sign-in (`identify`), as
 * `packages/express/test/app-sign-in-guards.test.ts` checks Express's guards: a password user of the
 * app passes `PasskeysGuard`, is named by `@CurrentUser()` as the app names them, and their
 * sign-in time counts for `@RequireRecentAuthentication()`.
 */
describe("NestJS guard and decorators accept the application's own sign-in", () => {
  const now = Date.now();
  const application = new SimulatedApplication(() => now);
  const logged: string[] = [];
  const passgate = testPassgate({
    rp: { name: 'Passgate test', id: RP_ID, origins: [ORIGIN] },
    now: () => now,
    signUp: false,
    logger: { ...silentLogger, error: (message) => logged.push(message) },
  });

  @Controller('app')
  class AppController {
    @Get('me')
    @UseGuards(PasskeysGuard)
    me(@PasskeySession() session: SignIn | null, @CurrentUser() user: unknown) {
      return {
        source: (session as { source?: string } | null)?.source ?? 'passgate',
        userId: session?.userId,
        user,
      };
    }

    @Get('open')
    @Public()
    open(@CurrentUser() user: unknown) {
      return { user };
    }

    @Post('sensitive')
    @RequireRecentAuthentication()
    sensitive() {
      return { done: true };
    }
  }

  let booted: Booted;
  beforeAll(async () => {
    booted = await boot({
      imports: [
        PasskeysModule.forRoot({
          passgate,
          identify: application.identify,
          onPasskeySignIn: application.onPasskeySignIn,
        }),
      ],
      controllers: [AppController],
    });
  });
  afterAll(() => booted.close());

  it('PasskeysGuard, @PasskeySession and @CurrentUser: the app user, named as the app names them', async () => {
    const client = new ContractClient(booted.url);
    const denied = await client.request('GET', '/app/me');
    expect(denied.status).toBe(401);
    expect(denied.body.error.code).toBe('unauthenticated');
    expect((await client.request('GET', '/app/open')).body).toEqual({ user: null });

    const user = SimulatedApplication.newUser();
    application.signInAs(client, user);
    const me = await client.request('GET', '/app/me');
    expect(me.status, me.text).toBe(200);
    expect(me.body).toEqual({
      source: 'application',
      userId: user.userId,
      user: { id: user.userId, name: user.name, displayName: user.displayName },
    });
    expect((await client.request('GET', '/app/open')).body.user.id).toBe(user.userId);
  });

  it("@RequireRecentAuthentication counts the app's own sign-in time", async () => {
    const client = new ContractClient(booted.url);
    const user = SimulatedApplication.newUser();
    application.signInAs(client, user, 60_000);
    expect((await client.request('POST', '/app/sensitive', { json: {} })).status).toBe(201);
    application.signInAs(client, user, 10 * 60_000); // default window: 300 s
    const stale = await client.request('POST', '/app/sensitive', { json: {} });
    expect(stale.status).toBe(401);
    expect(stale.body.error.code).toBe('reauthentication_required');
  });

  it('an identify that throws or answers garbage: a 500 logged naming identify, never a user', async () => {
    for (const how of ['throws', 'garbage'] as const) {
      const client = new ContractClient(booted.url);
      application.breakIdentify(client, how);
      logged.length = 0;
      // On the app's own routes the error goes to Nest's exception handling (its 500 format) ...
      const answer = await client.request('GET', '/app/me');
      expect(answer.status, how).toBe(500);
      expect(answer.text).not.toContain('simulated');
      expect(logged.join('\n')).toMatch(/`identify`/);
      // ... and on the passkey routes it is the contract's 500 body.
      const session = await client.get('/session');
      expect(session.status, how).toBe(500);
      expect(session.body.error.code).toBe('internal_error');
    }
  });

  it("a passkey sign-in answers the app's user id; the guard refuses it once PasskeysService revokes the passkey", async () => {
    const laptop = new ContractClient(booted.url);
    const user = SimulatedApplication.newUser();
    application.signInAs(laptop, user);
    const authenticator = new SoftwareAuthenticator();
    const options = await laptop.post('/register/options', {});
    expect(options.status, options.text).toBe(200);
    const created = await authenticator.createCredential(options.body, { origin: ORIGIN });
    expect((await laptop.post('/register/verify', created)).status).toBe(200);

    const phone = new ContractClient(booted.url);
    const login = await phone.post('/login/options', {});
    const verified = await phone.post(
      '/login/verify',
      await authenticator.getAssertion(login.body, { origin: ORIGIN }),
    );
    expect(verified.body.user.id).toBe(user.userId);
    expect(application.passkeySignIns.at(-1)?.user.id).toBe(user.userId);
    const me = await phone.request('GET', '/app/me');
    expect(me.body).toMatchObject({ source: 'passgate', userId: user.userId, user: { id: user.userId } });

    await booted.app.get(PasskeysService).revokeCredential(user.userId, created.id);
    const after = await phone.request('GET', '/app/me');
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('unauthenticated');
    // The app's own (password) sign-in on the laptop is not affected.
    expect((await laptop.request('GET', '/app/me')).status).toBe(200);
  });

  it('PasskeysService.renamePasskeyAccount moves the stored name username-first sign-in looks up', async () => {
    const client = new ContractClient(booted.url);
    const user = SimulatedApplication.newUser();
    application.signInAs(client, user);
    const authenticator = new SoftwareAuthenticator();
    const options = await client.post('/register/options', {});
    const created = await authenticator.createCredential(options.body, { origin: ORIGIN });
    expect((await client.post('/register/verify', created)).status).toBe(200);

    const service = booted.app.get(PasskeysService);
    expect(await service.renamePasskeyAccount(user.userId, { name: `renamed-${user.name}` })).toBe(true);
    const byName = await new ContractClient(booted.url).post('/login/options', {
      username: `renamed-${user.name}`,
    });
    expect(byName.body.allowCredentials.map((c: { id: string }) => c.id)).toEqual([created.id]);
    expect(await service.renamePasskeyAccount('nobody', { name: 'nobody@example.test' })).toBe(false);
  });
});
