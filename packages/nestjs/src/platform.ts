import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpException, Injectable, Logger, type NestMiddleware } from '@nestjs/common';
import { type Passgate, PassgateError } from '@passgate/core';
import { type ContractResponse, locateContractPath, locatePrefix } from '@passgate/core/http';
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
 * Set on Node's request by the module's mount middleware: Nest routed the request to the contract's
 * mount (`true`), or, with the root prefix, to one of its paths, which tells where it is mounted.
 */
const MOUNTED = Symbol('passgate.nestjs.contractMount');
/** Set on Node's request by the module's Fastify hook when it let the request go on unmarked. */
const PASSED = Symbol('passgate.nestjs.hookPassed');

type Located = { mount: string; below: string };
type Marks = { [MOUNTED]?: true | Located; [PASSED]?: true };

/** Marks requests for the module's Fastify hook, and fails them loudly when it ran first. */
export class MountMarker {
  private warned = false;

  mark(req: object, mounted: true | Located, next: (error?: unknown) => void): void {
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
 * On `@nestjs/platform-fastify`, Nest middleware applied to the contract's routes (as
 * `PasskeysContractMiddleware` is on Express) that only marks the request: Nest's own routing (its
 * global prefix) decides where the contract lives, and the Fastify hook serves it there and nowhere
 * else, so an app route that merely contains the prefix (`/admin/passkeys/...`) stays the app's.
 * Nest runs middleware (middie) in an `onRequest` hook added before the module's.
 */
@Injectable()
export class PasskeysMountMiddleware implements NestMiddleware {
  private readonly marker = new MountMarker();

  use(req: object, _res: unknown, next: (error?: unknown) => void): void {
    this.marker.mark(req, true, next);
  }
}

/**
 * With the root prefix on Fastify, the mount middleware for one contract path (`/credentials/:id`),
 * applied to that route alone. Nest puts its global prefix in front of it, and the path the request
 * matched then tells where the contract is mounted (`/api`), which the path alone cannot (see
 * `locateContractPath`); and paths that only end like the contract's (`/api/admin/session`) are
 * never marked.
 */
export function rootMountMiddleware(
  template: string,
  marker: MountMarker,
): (req: IncomingMessage & { originalUrl?: string }, res: unknown, next: (error?: unknown) => void) => void {
  return (req, _res, next) => {
    const located = locateContractPath(template, requestPath(req.originalUrl ?? req.url));
    if (located) marker.mark(req, located, next);
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
    prefix: string;
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
      locate: (path, request) => {
        const marks = request.raw as Marks;
        const mounted = marks[MOUNTED];
        if (mounted === undefined) {
          marks[PASSED] = true;
          return undefined;
        }
        const located = mounted === true ? locatePrefix(setup.prefix, path) : mounted;
        return located && { handler: handlerFor(located.mount), below: located.below };
      },
    }),
  );
}
