import { IncomingMessage, type ServerResponse } from 'node:http';
import { type ContractHandler, DEFAULT_PREFIX } from '../http/handler.js';
import { locatePrefix, normalizePrefix } from '../http/paths.js';
import { endsInContractPath } from '../http/routes.js';
import type { ContractResponse } from '../http/types.js';
import type { Passgate } from '../passgate.js';
import type { SignIn } from '../sign-in.js';
import type { PasskeyHttpOptions } from './options.js';
import { createSignInAdapter } from './options.js';
import { requestPath } from './request.js';
import { serveContract, serveWellKnown } from './serve.js';
import { expressSessionAdapter } from './session.js';
import type { SignInAdapter } from './sign-in.js';

/**
 * The parts of Fastify's request this glue uses, typed structurally: the core imports no framework,
 * and Fastify integrations (`@passgate/fastify`, `@passgate/nestjs` on `@nestjs/platform-fastify`)
 * share this rather than each keeping a copy.
 */
export interface FastifyRequestLike {
  raw: IncomingMessage;
  url: string;
  /** As Fastify resolves it (`trustProxy`). */
  ip: string;
  protocol: 'http' | 'https';
  headers: IncomingMessage['headers'];
  /** The sign-in, set by the hook on every request. */
  passkey?: SignIn | null;
}

/** The parts of Fastify's reply this glue uses. */
export interface FastifyReplyLike {
  raw: ServerResponse;
  sent: boolean;
  code(status: number): unknown;
  header(name: string, value: string | string[]): unknown;
  send(payload?: Buffer): unknown;
}

/** Whether a request handed to the app's code is Fastify's (it wraps Node's as `raw`). */
export function isFastifyRequest(req: unknown): req is FastifyRequestLike {
  return typeof req === 'object' && req !== null && (req as { raw?: unknown }).raw instanceof IncomingMessage;
}

/**
 * Sends a `ContractResponse` through Fastify's reply, so its `onSend` hooks (a session plugin's
 * cookie) still run: status, headers, `Set-Cookie` values appended, the JSON body as a Buffer (Fastify
 * adds a charset to a string's Content-Type; the contract's goes out as it is).
 */
export function replyWriter(reply: FastifyReplyLike): (response: ContractResponse) => void {
  return (response) => {
    reply.code(response.status);
    for (const [name, value] of Object.entries(response.headers)) reply.header(name, value);
    if (response.cookies.length > 0) reply.header('set-cookie', response.cookies);
    reply.send(response.body === undefined ? undefined : Buffer.from(JSON.stringify(response.body)));
  };
}

/**
 * The sign-in adapter on Fastify: @fastify/session by default (a connect-style `request.session`,
 * whose cookie is cleared through the reply), or the application's hooks, which then get Fastify's
 * request and reply.
 */
export function fastifySignInAdapter<
  Req extends FastifyRequestLike = FastifyRequestLike,
  Res extends FastifyReplyLike = FastifyReplyLike,
>(passgate: Passgate, options: PasskeyHttpOptions<Req, Res>): SignInAdapter<Req, Res> {
  return createSignInAdapter(passgate, options, (name) =>
    expressSessionAdapter<Req, Res>(name, (reply, value) => {
      reply.header('set-cookie', value);
    }),
  );
}

/**
 * The contract as one Fastify `onRequest` hook: serves `GET /.well-known/webauthn`, serves the
 * contract below its prefix (see `locate`), and resolves
 * `request.passkey` on every other request. Answering in `onRequest` means Fastify's content-type
 * parsers never see the contract's bodies (read from `request.raw`, bounded); every other route is
 * parsed as before. Add it after the session plugin, so `request.session` exists when it runs.
 * Resolves the reply when it answered (Fastify's way to end the request in a hook).
 */
export function fastifyContractHook(setup: {
  passgate: Passgate;
  // biome-ignore lint/suspicious/noExplicitAny: Fastify's request and reply, or an adapter taking either platform's
  signIns: SignInAdapter<any, any>;
  /**
   * Where a request's path is under the contract's prefix: its handler and the path below the
   * prefix, or `undefined`. E.g. `pathBelow` with one handler, or `locatePrefix` with a handler per
   * mount behind a framework's global prefix (with `request`, to serve only where the framework
   * mounted the contract).
   */
  locate: (
    path: string,
    request: FastifyRequestLike,
  ) => { handler: ContractHandler; below: string } | undefined;
  /** Serve the contract and the well-known path; `false`: only resolve `request.passkey`. */
  contract: boolean;
}): (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<FastifyReplyLike | undefined> {
  const { passgate, signIns } = setup;
  return async (request, reply) => {
    request.passkey = undefined;
    const path = requestPath(request.raw.url ?? request.url);
    const write = replyWriter(reply);
    if (setup.contract) {
      if (serveWellKnown(passgate, request.raw, path, request.ip, write)) return reply;
      const located = setup.locate(path, request);
      if (located) {
        const served = await serveContract(passgate, located.handler, signIns, {
          raw: request.raw,
          req: request,
          res: reply,
          below: located.below,
          info: { protocol: request.protocol, ip: request.ip },
          write,
          sent: () => reply.sent,
        });
        if (served) return reply;
      }
    }
    await signIns.resolve(request, reply);
    return undefined;
  };
}

/**
 * Fastify's `rewriteUrl` server option for an app serving the contract on Fastify:
 * `Fastify({ rewriteUrl: passkeysRewriteUrl() })`, or `new FastifyAdapter({ rewriteUrl: ... })` for
 * NestJS. Fastify's router refuses a path with bad percent-encoding (`/passkeys/credentials/%ZZ`) with
 * its own `400 FST_ERR_BAD_URL` before any plugin or hook runs, so no plugin can give the contract's
 * answer (`403 forbidden_origin` first, and a malformed id is `404 not_found` like any unknown one),
 * and only a server option comes before the router. Below the contract's `prefix` (anywhere in the
 * path, so behind NestJS's global prefix too; with the root prefix `/`, a path ending in one of the
 * contract's paths), such a path gets its `%` escaped (`%25ZZ`): the router then routes it, and
 * decodes it back to the text the client sent. Every other URL, and
 * every well-encoded one, is left as it is. To keep a rewrite of your own, apply this one to its
 * result: `const passkeysUrl = passkeysRewriteUrl()`, then `rewriteUrl: (req) => passkeysUrl({ url: yours(req) })`.
 */
export function passkeysRewriteUrl(options: { prefix?: string } = {}): (req: { url?: string }) => string {
  const prefix = normalizePrefix(options.prefix ?? DEFAULT_PREFIX);
  return (req) => {
    const url = req.url ?? '/';
    const path = requestPath(url);
    if (!path.includes('%')) return url;
    // At the root, below the prefix is the app's too: only what may be a contract path (behind a
    // global prefix this function does not know, so any path ending in one).
    if (prefix === '/' ? !endsInContractPath(path) : locatePrefix(prefix, path) === undefined) return url;
    try {
      decodeURIComponent(path);
      return url;
    } catch {
      return `${path.replaceAll('%', '%25')}${url.slice(path.length)}`;
    }
  };
}
