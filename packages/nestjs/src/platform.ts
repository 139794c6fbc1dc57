import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpException, Logger } from '@nestjs/common';
import { type Passgate, PassgateError } from '@passgate/core';
import { type ContractResponse, locateContractPath } from '@passgate/core/http';
import {
  createSignInAdapter,
  expressSessionAdapter,
  type FastifyReplyLike,
  type FastifyRequestLike,
  fastifyContractHook,
  fastifySignInAdapter,
  isFastifyRequest,
  nodeWriter,
  type PasskeyHttpOptions,
  replyWriter,
  requestPath,
  type SignInAdapter,
} from '@passgate/core/node';
import type { Request, Response } from 'express';
import { contractHandlers } from './handlers.js';
import { endsInPrefix } from './http.js';

/** Writes a `ContractResponse` on either platform's response (Express's, or Fastify's reply). */
export function writeResponse(res: unknown, response: ContractResponse): void {
  const reply = res as Partial<FastifyReplyLike>;
  if (reply.raw !== undefined && typeof reply.code === 'function')
    replyWriter(reply as FastifyReplyLike)(response);
  else nodeWriter(res as ServerResponse)(response);
}

/**
 * The module's sign-in adapter on both platforms, chosen per request (the platform is not known
 * when Nest builds providers in a testing module): express-session on Express, @fastify/session on
 * Fastify, or the application's hooks, which then get the platform's request and response.
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
  const pick = (req: unknown): SignInAdapter<unknown, unknown> => {
    if (!isFastifyRequest(req)) return onExpress as SignInAdapter<unknown, unknown>;
    onFastify ??= fastifySignInAdapter(passgate, options);
    return onFastify as SignInAdapter<unknown, unknown>;
  };
  return {
    assertReady: (req) => pick(req).assertReady(req),
    resolve: (req, res) => pick(req).resolve(req, res),
    signIn: (req, res, session, user) => pick(req).signIn(req, res, session, user),
    // On Express, a sign-in's session write overlaps the credential's update (express-session);
    // @fastify/session keeps the old order (its adapter has no begin).
    begin: (req, res, session) => pick(req).begin?.(req, res, session),
    signOut: (req, res) => pick(req).signOut(req, res),
  };
}

/**
 * Set on Node's request by the module's mount middleware: Nest routed the request to one of the
 * contract's paths, which tells where the contract is mounted.
 */
const MOUNTED = Symbol('passgate.nestjs.contractMount');
/** Set on Node's request by the module's Fastify hook when it let the request go on unmarked. */
const PASSED = Symbol('passgate.nestjs.hookPassed');

type Located = { mount: string; below: string };
type Marks = { [MOUNTED]?: Located; [PASSED]?: true };

/** Marks requests for the module's Fastify hook, and fails them loudly when it ran first. */
export class MountMarker {
  private warned = false;

  mark(req: object, mounted: Located, next: (error?: unknown) => void): void {
    const marks = req as Marks;
    if (marks[PASSED] === true) {
      // An app that registers @fastify/middie itself (`skipMiddie`) with a later `hook` runs Nest's
      // middleware after the module's onRequest hook, which has let this contract request go by:
      // Fastify's own parsers and 404 would answer it. Loudly, not as a silent 404.
      if (!this.warned) {
        this.warned = true;
        new Logger('PasskeysModule').error(
          "passgate: Nest's middleware runs after the passkeys module's onRequest hook, so the contract " +
            'cannot be served: register @fastify/middie with its default hook (`onRequest`), before ' +
            'app.init() or app.listen().',
        );
      }
      // With the contract's body, as `PassgateHttpException` (whose module imports this one) has it.
      const failure = new PassgateError('internal_error');
      next(new HttpException(failure.toJSON(), failure.status, { cause: failure }));
      return;
    }
    marks[MOUNTED] = mounted;
    next();
  }
}

/**
 * On `@nestjs/platform-fastify`, the mount middleware for one contract path (`/credentials/:id`) below
 * `prefix`, applied to that route alone: it only marks the request, and the Fastify hook serves it.
 * Nest's own routing (its global prefix, and what that excludes) decides where the contract lives,
 * and the path the request matched tells where that is (`/api/passkeys`), which the path alone
 * cannot: a global prefix may hold the prefix too (`setGlobalPrefix('passkeys')` mounts it at
 * `/passkeys/passkeys`), and with the root prefix it cannot be told from the contract's paths (see
 * `locateContractPath`). An app route that merely contains the prefix (`/admin/passkeys/...`), or
 * merely ends like a contract path (`/api/admin/session`), is never marked.
 */
export function mountMiddleware(
  prefix: string,
  template: string,
  marker: MountMarker,
): (req: IncomingMessage & { originalUrl?: string }, res: unknown, next: (error?: unknown) => void) => void {
  return (req, _res, next) => {
    const located = locateContractPath(template, requestPath(req.originalUrl ?? req.url));
    if (located && endsInPrefix(located.mount, prefix)) marker.mark(req, located, next);
    else next();
  };
}

interface FastifyInstanceLike {
  addHook(
    name: 'onRequest',
    hook: (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<unknown>,
  ): unknown;
}

/**
 * The contract on `@nestjs/platform-fastify`: core/node's Fastify hook, with a contract handler per
 * mount (Nest's global prefix goes in front of the prefix, as on Express), for the requests
 * the mount middleware marked. Added during
 * `app.init()`, after the plugins the app registered before it (register @fastify/cookie and
 * @fastify/session first, so `request.session` is there when it runs).
 */
export function installFastifyHooks(
  instance: unknown,
  setup: {
    passgate: Passgate;
    // biome-ignore lint/suspicious/noExplicitAny: dispatches on the platform's request at run time
    signIns: SignInAdapter<any, any>;
    contract: boolean;
    // biome-ignore lint/suspicious/noExplicitAny: the module's options, for either platform
    options: PasskeyHttpOptions<any, any>;
  },
): void {
  const handlerFor = contractHandlers(setup.passgate, setup.options);
  (instance as FastifyInstanceLike).addHook(
    'onRequest',
    fastifyContractHook({
      passgate: setup.passgate,
      signIns: setup.signIns,
      contract: setup.contract,
      locate: (_path, request) => {
        const marks = request.raw as Marks;
        const mounted = marks[MOUNTED];
        if (mounted === undefined) {
          marks[PASSED] = true;
          return undefined;
        }
        return { handler: handlerFor(mounted.mount), below: mounted.below };
      },
    }),
  );
}
