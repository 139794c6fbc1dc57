import { IncomingMessage, type ServerResponse } from 'node:http';
import type { Passgate, SignIn } from '@passgate/core';
import { type ContractHandler, type ContractResponse, locatePrefix } from '@passgate/core/http';
import {
  createSignInAdapter,
  expressSessionAdapter,
  nodeWriter,
  type PasskeyHttpOptions,
  requestPath,
  type SignInAdapter,
  serveContract,
  serveWellKnown,
} from '@passgate/core/node';
import type { Request, Response } from 'express';

/**
 * The parts of Fastify's request and reply this module uses (typed structurally, so neither
 * `fastify` nor `@nestjs/platform-fastify` is needed on Express).
 */
export interface FastifyRequestLike {
  raw: IncomingMessage;
  url: string;
  ip: string;
  protocol: 'http' | 'https';
  headers: IncomingMessage['headers'];
  passkey?: SignIn | null;
}

export interface FastifyReplyLike {
  raw: ServerResponse;
  sent: boolean;
  code(status: number): FastifyReplyLike;
  header(name: string, value: string | string[]): FastifyReplyLike;
  send(payload?: Buffer): FastifyReplyLike;
}

interface FastifyInstanceLike {
  addHook(
    name: 'onRequest',
    hook: (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<unknown>,
  ): unknown;
}

/** Whether a request handed to a guard, pipe or filter is Fastify's (it wraps Node's as `raw`). */
export function isFastifyRequest(req: unknown): req is FastifyRequestLike {
  return typeof req === 'object' && req !== null && (req as { raw?: unknown }).raw instanceof IncomingMessage;
}

/** Sends a `ContractResponse` through Fastify's reply, so its `onSend` hooks (the session's cookie) still run. */
export function replyWriter(reply: FastifyReplyLike): (response: ContractResponse) => void {
  return (response) => {
    reply.code(response.status);
    for (const [name, value] of Object.entries(response.headers)) reply.header(name, value);
    // Appended to (and by) the session plugin's own Set-Cookie.
    if (response.cookies.length > 0) reply.header('set-cookie', response.cookies);
    // A Buffer, so Fastify sends the contract's Content-Type as it is (it adds a charset to strings).
    reply.send(response.body === undefined ? undefined : Buffer.from(JSON.stringify(response.body)));
  };
}

/** Writes a `ContractResponse` on either platform's response (Express's, or Fastify's reply). */
export function writeResponse(res: unknown, response: ContractResponse): void {
  const reply = res as Partial<FastifyReplyLike>;
  if (reply.raw !== undefined && typeof reply.code === 'function')
    replyWriter(reply as FastifyReplyLike)(response);
  else nodeWriter(res as ServerResponse)(response);
}

/**
 * The module's sign-in adapter on both platforms: express-session on Express, @fastify/session (a
 * connect-style `request.session` too, whose cookies are set through the reply) on Fastify, or the
 * application's hooks, which then get the platform's request and response.
 */
export function platformSignIns(
  passgate: Passgate,
  // biome-ignore lint/suspicious/noExplicitAny: the platform's request and response (Express or Fastify)
  options: PasskeyHttpOptions<any, any>,
  // biome-ignore lint/suspicious/noExplicitAny: dispatches on the platform's request at run time
): SignInAdapter<any, any> {
  const onExpress = createSignInAdapter<Request, Response>(passgate, options, (name) =>
    expressSessionAdapter<Request>(name),
  );
  let onFastify: SignInAdapter<FastifyRequestLike, FastifyReplyLike> | undefined;
  const pick = (req: unknown) => {
    if (!isFastifyRequest(req)) return onExpress as SignInAdapter<unknown, unknown>;
    onFastify ??= createSignInAdapter<FastifyRequestLike, FastifyReplyLike>(passgate, options, (name) =>
      expressSessionAdapter<FastifyRequestLike, FastifyReplyLike>(name, (reply, value) => {
        reply.header('set-cookie', value);
      }),
    );
    return onFastify as SignInAdapter<unknown, unknown>;
  };
  return {
    assertReady: (req) => pick(req).assertReady(req),
    resolve: (req, res) => pick(req).resolve(req, res),
    signIn: (req, res, session, user) => pick(req).signIn(req, res, session, user),
    signOut: (req, res) => pick(req).signOut(req, res),
  };
}

/**
 * The contract on `@nestjs/platform-fastify`: one `onRequest` hook that, like the Express
 * middleware, serves `GET /.well-known/webauthn`, serves the contract below the prefix (Nest's
 * global prefix in front is found as on Express), and resolves `request.passkey` on every other
 * request. Answering in `onRequest` means Fastify's content-type parsers never see the contract's
 * bodies (read here from `request.raw`, bounded, as on Express); every other route is parsed as
 * before. Added during `app.init()`, after the plugins the app registered before it (register
 * @fastify/cookie and @fastify/session first, so `request.session` is there when it runs).
 */
export function installFastifyHooks(
  instance: unknown,
  setup: {
    passgate: Passgate;
    // biome-ignore lint/suspicious/noExplicitAny: dispatches on the platform's request at run time
    signIns: SignInAdapter<any, any>;
    prefix: string;
    contract: boolean;
    handlerFor: (mount: string) => ContractHandler;
  },
): void {
  const fastify = instance as FastifyInstanceLike;
  const { passgate, signIns, prefix } = setup;
  fastify.addHook('onRequest', async (request, reply) => {
    request.passkey = undefined;
    const path = requestPath(request.raw.url ?? request.url);
    const write = replyWriter(reply);
    if (setup.contract) {
      if (serveWellKnown(passgate, request.raw, path, request.ip, write)) return reply;
      const located = locatePrefix(prefix, path);
      if (located) {
        const served = await serveContract(passgate, setup.handlerFor(located.mount), signIns, {
          raw: request.raw,
          req: request,
          res: reply,
          below: located.below,
          info: { protocol: request.protocol, ip: request.ip },
          write,
          sent: () => reply.sent,
        });
        return served ? reply : undefined;
      }
    }
    await signIns.resolve(request, reply);
    return undefined;
  });
}
