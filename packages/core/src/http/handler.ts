import { isBase64Url } from '../base64url.js';
import { MAX_CREDENTIAL_ID_BYTES } from '../checks.js';
import type { PassgateLogger, RequestContext } from '../config.js';
import { isPassgateError, PassgateError } from '../errors.js';
import type { Passgate } from '../passgate.js';
import {
  authenticationResponseSchema,
  loginOptionsBodySchema,
  parseBody,
  registerOptionsBodySchema,
  registerOptionsSignedInBodySchema,
  registrationResponseSchema,
  renameBodySchema,
} from '../schemas.js';
import type { PublicKeyCredentialHint } from '../types.js';
import { type CeremonyCookieOptions, ceremonyCookie, clearCeremonyCookie, readCookie } from './cookies.js';
import { jsonSizeUpTo } from './json-size.js';
import { normalizePrefix } from './paths.js';
import type { ContractRequest, ContractResponse, SessionAction } from './types.js';

export interface ContractHandlerOptions {
  /** Where the routes are mounted; the ceremony cookie's `Path`. Default `/passkeys`. */
  prefix?: string;
  /** Name of the ceremony cookie. Default `passgate_ceremony`. */
  cookieName?: string;
  /** Largest request body in bytes. Default 65536 (64 KiB), as the contract states. */
  maxBodyBytes?: number;
  /**
   * When the ceremony cookie gets `Secure`. Default `'auto'`: when the request came over https, as
   * the framework sees it (`request.protocol`, which behind a proxy follows Express's `trust proxy`).
   * `true`: always, e.g. behind a TLS-terminating proxy the app does not trust; `false`: never
   * (plain-http development). Under `'auto'`, the first request over http while a configured
   * origin is https logs a warning once: behind such a proxy the cookie would never be `Secure`.
   */
  secureCookies?: 'auto' | boolean;
}

export const DEFAULT_PREFIX = '/passkeys';
export const DEFAULT_COOKIE_NAME = 'passgate_ceremony';
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

/** How an endpoint reads its body. */
type BodyRule = 'required' | 'optional' | 'ignored';

interface Route {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  pattern: RegExp;
  /** Options and verify endpoints share the per-IP bucket. */
  rateLimited: boolean;
  body: BodyRule;
  /** Answers `401 unauthenticated` without a session (after the body checks, as the contract orders). */
  auth: boolean;
  run(call: Call): Promise<ContractResponse>;
}

/** One request on its way through an endpoint. */
interface Call {
  request: ContractRequest;
  params: string[];
  body: unknown;
  context: RequestContext;
  cookie: CeremonyCookieOptions;
}

export interface ContractHandler {
  /** Serves one request of the contract; resolves `null` when no route matches (the framework moves on). */
  handle(request: ContractRequest): Promise<ContractResponse | null>;
  readonly prefix: string;
  readonly cookieName: string;
}

/**
 * The HTTP contract (`http-api.md`) without HTTP: routing, the order of the generic checks
 * (origin, media type, size, rate limit, schema, session), the ceremony cookie, the error bodies
 * and the session actions. `@passgate/express` and `@passgate/nestjs` are thin shells around this.
 */
export function createContractHandler(
  passgate: Passgate,
  options: ContractHandlerOptions = {},
): ContractHandler {
  const prefix = normalizePrefix(options.prefix ?? DEFAULT_PREFIX);
  const cookieName = options.cookieName ?? DEFAULT_COOKIE_NAME;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const secureCookies = options.secureCookies ?? 'auto';
  if (secureCookies !== 'auto' && typeof secureCookies !== 'boolean') {
    throw new TypeError("secureCookies must be 'auto', true or false");
  }
  const routes = buildRoutes(passgate);
  const { runtime } = passgate;
  let warnedInsecure = false;

  async function handle(request: ContractRequest): Promise<ContractResponse | null> {
    const method = request.method.toUpperCase();
    let route: Route | undefined;
    let params: string[] = [];
    for (const candidate of routes) {
      const match = candidate.method === method ? candidate.pattern.exec(request.path) : null;
      if (match) {
        route = candidate;
        params = match.slice(1).map((p) => safeDecode(p));
        break;
      }
    }
    if (!route) return null;

    const origin = header(request, 'origin');
    const context: RequestContext = {
      ...(request.ip !== undefined ? { ip: request.ip } : {}),
      ...(header(request, 'host') !== undefined ? { host: header(request, 'host') as string } : {}),
      ...(origin !== undefined ? { origin } : {}),
    };
    const secure = secureCookies === 'auto' ? request.protocol === 'https' : secureCookies;
    if (secureCookies === 'auto' && !secure && !warnedInsecure) {
      if (runtime.origins(context).some((o) => o.startsWith('https:'))) {
        warnedInsecure = true;
        runtime.logger.warn(
          'passgate: a request arrived over http while the configured origin is https, so the ceremony ' +
            "cookie is not Secure. Behind a TLS-terminating proxy, set Express's `trust proxy` or " +
            'the `secureCookies: true` option.',
        );
      }
    }
    const cookie: CeremonyCookieOptions = { name: cookieName, path: prefix, secure };
    try {
      if (method !== 'GET') {
        // CSRF defence for cookie sessions: a browser always sends Origin on these; a foreign one
        // (or `null`, from sandboxed or privacy-sensitive contexts) is refused.
        if (origin !== undefined && !runtime.origins(context).includes(origin)) {
          throw new PassgateError('forbidden_origin');
        }
        if (hasBody(request) && !isJson(header(request, 'content-type'))) {
          throw new PassgateError('unsupported_media_type');
        }
        const length = Number(header(request, 'content-length'));
        if (Number.isFinite(length) && length > maxBodyBytes) throw new PassgateError('payload_too_large');
      }
      const raw = route.body === 'ignored' ? undefined : await readBody(request, maxBodyBytes);
      if (route.rateLimited) await passgate.consumeRequestLimit(request.ip);
      const body = route.body === 'ignored' ? undefined : decodeJson(raw, route.body);
      if (route.auth && !request.session) throw new PassgateError('unauthenticated');
      return await route.run({ request, params, body, context, cookie });
    } catch (error) {
      return errorResponse(error, runtime.logger);
    }
  }

  return { handle, prefix, cookieName };
}

function buildRoutes(passgate: Passgate): Route[] {
  const credentialPath = /^\/credentials\/([^/]+)\/?$/;
  return [
    {
      method: 'POST',
      pattern: /^\/register\/options\/?$/,
      rateLimited: true,
      body: 'optional',
      auth: false,
      async run({ request, body, context, cookie }) {
        const signedIn = request.session !== null;
        // A conditional create is for a signed-in user only, whatever else the body holds.
        if (!signedIn && (body as { mediation?: unknown }).mediation === 'conditional') {
          throw new PassgateError('unauthenticated');
        }
        // Signed in: the account's own name is used; username and displayName are not even validated.
        const input: {
          username?: string;
          displayName?: string;
          hints?: PublicKeyCredentialHint[];
          mediation?: 'conditional' | 'required';
        } = signedIn
          ? parseBody(registerOptionsSignedInBodySchema, body)
          : parseBody(registerOptionsBodySchema, body);
        const started = await passgate.startRegistration({
          session: request.session,
          username: input.username,
          displayName: input.displayName,
          hints: input.hints,
          mediation: input.mediation,
          context,
        });
        return ceremonyStarted(started, cookie, passgate.runtime.policy.challengeTtlMs);
      },
    },
    {
      method: 'POST',
      pattern: /^\/register\/verify\/?$/,
      rateLimited: true,
      body: 'required',
      auth: false,
      async run({ request, body, context, cookie }) {
        const response = parseBody(registrationResponseSchema, body);
        return withCeremony(passgate.runtime.logger, cookie, request, async (ceremonyId) => {
          const result = await passgate.finishRegistration({
            ceremonyId,
            response,
            nickname: response.nickname,
            session: request.session,
            context,
          });
          const sessionAction: SessionAction | undefined = result.session
            ? { type: 'sign_in', session: result.session, user: result.user }
            : undefined;
          return json(
            200,
            { verified: true, user: result.user, credential: result.credential },
            [],
            sessionAction,
          );
        });
      },
    },
    {
      method: 'POST',
      pattern: /^\/login\/options\/?$/,
      rateLimited: true,
      body: 'optional',
      auth: false,
      async run({ body, context, cookie }) {
        const input = parseBody(loginOptionsBodySchema, body);
        const started = await passgate.startAuthentication({
          username: input.username,
          hints: input.hints,
          context,
        });
        return ceremonyStarted(started, cookie, passgate.runtime.policy.challengeTtlMs);
      },
    },
    {
      method: 'POST',
      pattern: /^\/login\/verify\/?$/,
      rateLimited: true,
      body: 'required',
      auth: false,
      async run({ request, body, context, cookie }) {
        const response = parseBody(authenticationResponseSchema, body);
        return withCeremony(passgate.runtime.logger, cookie, request, async (ceremonyId) => {
          const result = await passgate.finishAuthentication({ ceremonyId, response, context });
          return json(200, { verified: true, user: result.user, credential: result.credential }, [], {
            type: 'sign_in',
            session: result.session,
            user: result.user,
          });
        });
      },
    },
    {
      method: 'GET',
      pattern: /^\/session\/?$/,
      rateLimited: false,
      body: 'ignored',
      auth: true,
      async run({ request }) {
        return json(200, await passgate.describeSession(request.session));
      },
    },
    {
      method: 'POST',
      pattern: /^\/logout\/?$/,
      rateLimited: false,
      body: 'ignored',
      auth: false,
      async run() {
        return {
          status: 204,
          headers: baseHeaders(false),
          cookies: [],
          body: undefined,
          sessionAction: { type: 'sign_out' },
        };
      },
    },
    {
      method: 'GET',
      pattern: /^\/credentials\/?$/,
      rateLimited: false,
      body: 'ignored',
      auth: true,
      async run({ request, context }) {
        return json(200, await passgate.listCredentials(request.session, context));
      },
    },
    {
      method: 'PATCH',
      pattern: credentialPath,
      rateLimited: false,
      body: 'required',
      // The contract checks the body (400) before the session (401): parse first, then require one.
      auth: false,
      async run({ request, params, body }) {
        const { nickname } = parseBody(renameBodySchema, body);
        if (!request.session) throw new PassgateError('unauthenticated');
        const id = credentialIdParam(params[0]);
        return json(200, await passgate.renameCredential(request.session, id, nickname));
      },
    },
    {
      method: 'DELETE',
      pattern: credentialPath,
      rateLimited: false,
      body: 'ignored',
      auth: true,
      async run({ request, params, context }) {
        const id = credentialIdParam(params[0]);
        return json(200, await passgate.deleteCredential(request.session, id, context));
      },
    },
  ];
}

/**
 * A verify consumes the ceremony named by the cookie whatever happens next, so the cookie is cleared
 * on every answer from here on, success or failure.
 */
async function withCeremony(
  logger: PassgateLogger,
  cookie: CeremonyCookieOptions,
  request: ContractRequest,
  run: (ceremonyId: string | undefined) => Promise<ContractResponse>,
): Promise<ContractResponse> {
  const ceremonyId = readCookie(header(request, 'cookie'), cookie.name);
  const clear = clearCeremonyCookie(cookie);
  try {
    const response = await run(ceremonyId);
    response.cookies.push(clear);
    return response;
  } catch (error) {
    const response = errorResponse(error, logger);
    response.cookies.push(clear);
    return response;
  }
}

function ceremonyStarted(
  started: { ceremonyId: string; options: unknown },
  cookie: CeremonyCookieOptions,
  ttlMs: number,
): ContractResponse {
  return json(200, started.options, [ceremonyCookie(cookie, started.ceremonyId, ttlMs / 1000)]);
}

/** Ids in paths that are not canonical base64url, or too long, are simply not found. */
function credentialIdParam(value: string | undefined): string {
  if (!value || !isBase64Url(value) || value.length > Math.ceil((MAX_CREDENTIAL_ID_BYTES * 4) / 3)) {
    throw new PassgateError('not_found');
  }
  return value;
}

function json(
  status: number,
  body: unknown,
  cookies: string[] = [],
  sessionAction?: SessionAction,
): ContractResponse {
  const response: ContractResponse = { status, headers: baseHeaders(true), cookies, body };
  if (sessionAction) response.sessionAction = sessionAction;
  return response;
}

function baseHeaders(withBody: boolean): Record<string, string> {
  // Options carry challenges and responses carry account data: never cache either.
  const headers: Record<string, string> = { 'cache-control': 'no-store' };
  if (withBody) headers['content-type'] = 'application/json; charset=utf-8';
  return headers;
}

/** The contract's error body for any error; anything that is not a PassgateError is a 500 that says nothing. */
export function errorResponse(
  error: unknown,
  logger?: { error(message: string, fields?: Record<string, unknown>): void },
): ContractResponse {
  const failure = isPassgateError(error)
    ? error
    : new PassgateError('internal_error', undefined, { cause: error });
  if (!isPassgateError(error)) {
    // A bug, not an outcome of the contract: keep the stack for whoever reads the logs.
    logger?.error('passgate request failed', {
      error: error instanceof Error ? error.message : String(error),
      ...(error instanceof Error && error.stack ? { stack: error.stack } : {}),
    });
  }
  const response = json(failure.status, failure.toJSON());
  if (failure.retryAfterSeconds !== undefined)
    response.headers['retry-after'] = String(failure.retryAfterSeconds);
  return response;
}

function header(request: ContractRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function hasBody(request: ContractRequest): boolean {
  if (request.body.kind === 'parsed') return true;
  if (header(request, 'transfer-encoding') !== undefined) return true;
  const length = header(request, 'content-length');
  return length !== undefined && length !== '0';
}

function isJson(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const [type = '', ...params] = contentType.split(';').map((p) => p.trim().toLowerCase());
  if (type !== 'application/json') return false;
  // JSON is UTF-8 (RFC 8259); any other declared charset is not what we parse.
  return params.every((p) => !p.startsWith('charset=') || p === 'charset=utf-8' || p === 'charset="utf-8"');
}

async function readBody(request: ContractRequest, limit: number): Promise<Uint8Array | { parsed: unknown }> {
  const { body } = request;
  if (body.kind === 'none') return new Uint8Array(0);
  if (body.kind === 'parsed') {
    // A host parser read the stream (possibly chunked, with no Content-Length): measure what it made.
    if (jsonSizeUpTo(body.value, limit) > limit) throw new PassgateError('payload_too_large');
    return { parsed: body.value };
  }
  return body.read(limit);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeJson(raw: Uint8Array | { parsed: unknown } | undefined, rule: BodyRule): unknown {
  if (raw === undefined) return undefined;
  let value: unknown;
  if (raw instanceof Uint8Array) {
    if (raw.length === 0) {
      if (rule === 'optional') return {};
      throw new PassgateError('invalid_request', 'A JSON body is required.', { field: '$' });
    }
    try {
      value = JSON.parse(utf8.decode(raw));
    } catch {
      throw new PassgateError('invalid_request', 'The body is not valid JSON.', { field: '$' });
    }
  } else {
    value = raw.parsed;
    // Some parsers leave `{}` for an empty body; treat it like one.
    if (value === undefined) value = rule === 'optional' ? {} : undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new PassgateError('invalid_request', 'The body must be a JSON object.', { field: '$' });
  }
  return value;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
