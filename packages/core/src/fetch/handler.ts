import { PassgateError } from '../errors.js';
import { type ContractHandler, createContractHandler } from '../http/handler.js';
import { pathBelow } from '../http/paths.js';
import { errorResponse } from '../http/responses.js';
import { resolveRequestSignIn } from '../http/sign-in.js';
import type { ContractBody, ContractRequest, ContractResponse } from '../http/types.js';
import { wellKnownWebauthn } from '../http/well-known.js';
import { contractHandlerOptions } from '../node/options.js';
import type { Passgate } from '../passgate.js';
import type { FetchHandlerOptions, FetchRequestInfo } from './options.js';
import { readLimitedBody } from './read-body.js';

/** A Web-standard request handler serving the whole Passgate HTTP contract. */
export type FetchHandler = (request: Request, info?: FetchRequestInfo) => Promise<Response>;

/**
 * The Passgate HTTP contract (`http-api.md`) as a Web-standard `(request) => Promise<Response>`, for
 * Hono, Next.js route handlers, Bun, Deno, Cloudflare-style workers: every route under the prefix,
 * `GET /.well-known/webauthn` when `rp.relatedOrigins` is configured, `404 not_found` (the contract's error body) for
 * anything else, so route only the prefix (and the well-known path) to it.
 *
 * Routing, the order of the checks, cookies and error bodies come from `@passgate/core/http`, exactly
 * as in `@passgate/express` and `@passgate/nestjs`; this only translates `Request`/`Response` and
 * calls the session hooks.
 *
 * @example
 * const passkeys = createFetchHandler(passgate, { session: { getSignedInUser, onSignIn, onSignOut } });
 * app.all('/passkeys/*', (c) => passkeys(c.req.raw, { ip: getConnInfo(c).remote.address }));
 */
export function createFetchHandler(passgate: Passgate, options: FetchHandlerOptions): FetchHandler {
  if (!passgate)
    throw new TypeError('passgate: createFetchHandler needs a `passgate` (from createPassgate).');
  const hooks = options?.session;
  if (!hooks || typeof hooks.getSignedInUser !== 'function') {
    throw new TypeError(
      'passgate: createFetchHandler needs `session` hooks (getSignedInUser, onSignIn, onSignOut): the application keeps sign-ins.',
    );
  }
  const handler = createContractHandler(passgate, contractHandlerOptions(options));
  const { logger } = passgate.runtime;

  return async (request, info) => {
    const url = new URL(request.url);
    const method = request.method.toUpperCase();
    try {
      const ip = info?.ip ?? options.getClientIp?.(request);
      const headers = headerRecord(request.headers);
      const wellKnown = wellKnownWebauthn(passgate, { method, path: url.pathname, headers, ip });
      if (wellKnown) return toResponse(wellKnown, new Headers(), method);
      const below = pathBelow(handler.prefix, url.pathname);
      const answer =
        below === undefined
          ? null
          : await serve(passgate, handler, options, request, {
              url,
              path: below,
              headers,
              ip,
              secure: options.secure,
            });
      return answer ?? toResponse(errorResponse(new PassgateError('not_found')), new Headers(), method);
    } catch (error) {
      // A throwing session hook (or another bug): the contract's 500, logged, never its message.
      return toResponse(errorResponse(error, logger), new Headers(), method);
    }
  };
}

async function serve(
  passgate: Passgate,
  handler: ContractHandler,
  options: FetchHandlerOptions,
  request: Request,
  at: {
    url: URL;
    path: string;
    headers: Record<string, string>;
    ip: string | undefined;
    secure?: boolean | undefined;
  },
): Promise<Response | null> {
  const hooks = options.session;
  const { identify } = options;
  const headers = new Headers();
  // Called by the contract handler after the request-shape checks (contract order).
  const session = async () => {
    const resolved = await resolveRequestSignIn(passgate, {
      session: (await hooks.getSignedInUser(request)) ?? null,
      identify: identify ? () => identify(request) : undefined,
    });
    // A sign-in made with a passkey that has since been deleted ends here (contract 1.1).
    if (resolved.ended) await hooks.onSignOut(request, headers);
    return resolved.signIn;
  };
  const { ip } = at;
  const contract: ContractRequest = {
    method: request.method,
    path: at.path,
    headers: at.headers,
    protocol: at.secure || at.url.protocol === 'https:' ? 'https' : 'http',
    ...(ip !== undefined ? { ip } : {}),
    body: contractBody(request),
    session,
  };
  const response = await handler.handle(contract);
  if (!response) return null;
  const action = response.sessionAction;
  if (action?.type === 'sign_in') {
    await hooks.onSignIn(action.session, headers, request);
    await options.onPasskeySignIn?.({ user: action.user, session: action.session }, headers, request);
  } else if (action?.type === 'sign_out') await hooks.onSignOut(request, headers);
  return toResponse(response, headers, request.method.toUpperCase());
}

function contractBody(request: Request): ContractBody {
  if (request.bodyUsed) throw new TypeError('The request body was already read before the passkey handler.');
  return { kind: 'stream', read: (limit) => readLimitedBody(request.body, limit) };
}

/** Lower-case names, as `ContractRequest` expects (`Headers` iterates them lower-cased already). */
function headerRecord(headers: Headers): Record<string, string> {
  const record: Record<string, string> = {};
  headers.forEach((value, name) => {
    record[name] = value;
  });
  return record;
}

/**
 * Writes the contract's answer verbatim onto `headers` (which may already carry the session hook's
 * cookies): status, headers, every Set-Cookie value and the JSON body, or none (204, HEAD).
 */
function toResponse(response: ContractResponse, headers: Headers, method: string): Response {
  for (const [name, value] of Object.entries(response.headers)) headers.set(name, value);
  // The rest of an oversized body is not read: a keep-alive client must not send its next request
  // on a connection the server may close once it gives up draining (Hono's Node server does, 500 ms).
  if (response.status === 413) headers.set('connection', 'close');
  for (const cookie of response.cookies) headers.append('set-cookie', cookie);
  if (response.body === undefined || method === 'HEAD') {
    if (response.body !== undefined) headers.set('content-length', String(byteLength(response.body)));
    return new Response(null, { status: response.status, headers });
  }
  return new Response(JSON.stringify(response.body), { status: response.status, headers });
}

function byteLength(body: unknown): number {
  return new TextEncoder().encode(JSON.stringify(body)).byteLength;
}
