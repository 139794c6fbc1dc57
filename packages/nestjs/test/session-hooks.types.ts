/**
 * Type-level checks of `PasskeySessionHooks`, compiled by `pnpm typecheck` (tsconfig.test.json) and
 * never run (not a `*.test.ts`): a broken expectation or an unused `@ts-expect-error` fails the
 * typecheck.
 */
import type { Passgate } from '@passgate/core';
import type { Request, Response } from 'express';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { expectTypeOf } from 'vitest';
import { type PasskeySessionHooks, PasskeysModule } from '../src/index.js';

// Without type arguments the hooks fit either platform: `req`/`res` are `any`.
expectTypeOf<Parameters<PasskeySessionHooks['onSignIn']>[0]>().toBeAny();
expectTypeOf<Parameters<PasskeySessionHooks['onSignIn']>[1]>().toBeAny();

// With Express's types, inline hooks get `req`/`res` contextually typed.
export const expressHooks = {
  getSignedInUser: (req) => {
    expectTypeOf(req).toEqualTypeOf<Request>();
    return null;
  },
  onSignIn: (req, res, session) => {
    expectTypeOf(req).toEqualTypeOf<Request>();
    expectTypeOf(res).toEqualTypeOf<Response>();
    res.cookie('token', session.userId);
  },
  onSignOut: (_req, res) => {
    res.clearCookie('token');
  },
} satisfies PasskeySessionHooks<Request, Response>;

// And Fastify's on `@nestjs/platform-fastify`.
export const fastifyHooks = {
  onSignIn: (_req, res, session) => {
    expectTypeOf(res).toEqualTypeOf<FastifyReply>();
    res.header('x-token', session.userId);
  },
  onSignOut: (req) => {
    expectTypeOf(req).toEqualTypeOf<FastifyRequest>();
  },
} satisfies PasskeySessionHooks<FastifyRequest, FastifyReply>;

// The platform's types are checked...
export const wrongPlatform = {
  // @ts-expect-error `code` is Fastify's reply, not Express's response
  onSignIn: (_req, res) => res.code(200),
  onSignOut: () => {},
} satisfies PasskeySessionHooks<Request, Response>;

// ...and typed hooks still go into the module's options.
declare const passgate: Passgate;
PasskeysModule.forRoot({ passgate, session: expressHooks });
PasskeysModule.forRoot({ passgate, session: fastifyHooks });
