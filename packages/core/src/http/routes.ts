import { isBase64Url } from '../base64url.js';
import { MAX_CREDENTIAL_ID_BYTES } from '../checks.js';
import type { PassgateLogger, RequestContext } from '../config.js';
import { PassgateError } from '../errors.js';
import type { Passgate } from '../passgate.js';
import type { RequestCount } from '../request-count.js';
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
import type { BodyRule } from './body.js';
import { type CeremonyCookieOptions, ceremonyCookie, clearCeremonyCookie, readCookie } from './cookies.js';
import { baseHeaders, errorResponse, header, json } from './responses.js';
import type { ContractRequest, ContractResponse, ResolvedContractRequest, SessionAction } from './types.js';

/** One endpoint of the contract, below the mount prefix. */
export interface Route {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  pattern: RegExp;
  /** Options and verify endpoints share the per-IP bucket. */
  rateLimited: boolean;
  /**
   * The endpoint hands the request's count (`Call.count`) to its ceremony, which counts it with its
   * store operation (one round trip with a `CountingStore`); the handler counts it up front otherwise.
   */
  countsInCeremony?: true;
  body: BodyRule;
  /** Answers `401 unauthenticated` without a session (after the body checks, as the contract orders). */
  auth: boolean;
  /** What the endpoint does with sign-ins (see `SessionUse`). */
  sessions: SessionUse;
  run(call: Call): Promise<ContractResponse>;
}

/**
 * What an endpoint does with sign-ins: `reads` the current one (the integration resolves it, from its
 * session and `identify`), `keeps` one without reading it (signs in or out: the session layer must be
 * there), or `none` (`POST /login/options`: an app may leave its session middleware off that path).
 */
export type SessionUse = 'none' | 'keeps' | 'reads';

/** One request on its way through an endpoint. */
export interface Call {
  request: ResolvedContractRequest;
  params: string[];
  body: unknown;
  context: RequestContext;
  cookie: CeremonyCookieOptions;
  /** The request's per-IP count, for an endpoint with `countsInCeremony` (else already counted or none). */
  count?: RequestCount | undefined;
}

/**
 * The contract's paths below the prefix as route templates (`:id` is a path parameter), for an
 * integration whose framework mounts middleware on exact routes (NestJS on Fastify).
 */
const TEMPLATES = {
  registerOptions: '/register/options',
  registerVerify: '/register/verify',
  loginOptions: '/login/options',
  loginVerify: '/login/verify',
  session: '/session',
  logout: '/logout',
  credentials: '/credentials',
  credential: '/credentials/:id',
} as const;

type PathName = keyof typeof TEMPLATES;

/** A template as a pattern ending the path (a trailing slash is accepted); groups are path parameters. */
function templatePattern(template: string, anchored: boolean): RegExp {
  const segments = template.split('/').map((segment) => (segment.startsWith(':') ? '([^/]+)' : segment));
  return new RegExp(`${anchored ? '^' : ''}${segments.join('\\/')}\\/?$`);
}

const names = Object.keys(TEMPLATES) as PathName[];

function patterns(anchored: boolean): Record<PathName, RegExp> {
  const entries = names.map((name) => [name, templatePattern(TEMPLATES[name], anchored)]);
  return Object.fromEntries(entries) as Record<PathName, RegExp>;
}

/** The contract's paths below the prefix (`/credentials/AbC` is `credential`). */
const PATHS = patterns(true);
/** The same, ending a longer path: the part before them is the mount (`/api/session`). */
const ENDINGS = patterns(false);

const ALL_PATHS: readonly RegExp[] = Object.values(PATHS);
const ALL_ENDINGS: readonly RegExp[] = Object.values(ENDINGS);
/** Each template's ending pattern, for `locateContractPath` (called on every routed request). */
const ENDING_BY_TEMPLATE: ReadonlyMap<string, RegExp> = new Map(
  names.map((name) => [TEMPLATES[name], ENDINGS[name]]),
);

/** The contract's paths below the prefix as route templates (`/credentials/:id`). */
export const CONTRACT_PATH_TEMPLATES: readonly string[] = Object.values(TEMPLATES);

/**
 * Whether `path` (below the prefix, e.g. `/login/options`) is one of the contract's paths, whatever
 * the method. For integrations that must tell the contract's requests apart before routing, e.g. to
 * keep a host body parser off them when the prefix sits behind a global one.
 */
export function isContractPath(path: string): boolean {
  return ALL_PATHS.some((pattern) => pattern.test(path));
}

/**
 * Whether a full request path ends in one of the contract's paths (`/api/login/options`): with the
 * root prefix behind a framework's global prefix (unknown at that point), the requests that may be
 * the contract's. Only a guess, for work that may safely be done for more paths than the contract's
 * (leaving a body unparsed for later, escaping a malformed URL), never to decide what is served.
 */
export function endsInContractPath(path: string): boolean {
  return ALL_ENDINGS.some((pattern) => pattern.test(path));
}

/**
 * Where the contract is mounted for a request that a framework routed to the contract path
 * `template` (one of {@link CONTRACT_PATH_TEMPLATES}), and the path below the mount:
 * `/api/credentials/AbC` routed to `/credentials/:id` is mount `/api` and path `/credentials/AbC`;
 * `/session` routed to `/session` is mount `/`. With the root prefix the path alone cannot tell a
 * global prefix from the contract (`/api/credentials/session` may be `/credentials/:id` at `/api` or
 * `/session` at `/api/credentials`), the route the framework matched can. `undefined` when the path
 * does not end in that template (the framework matched a form the contract does not serve).
 */
export function locateContractPath(
  template: string,
  path: string,
): { mount: string; below: string } | undefined {
  const match = ENDING_BY_TEMPLATE.get(template)?.exec(path);
  if (!match) return undefined;
  return { mount: path.slice(0, match.index) || '/', below: path.slice(match.index) };
}

/** The route for `method` and `path` with its decoded path parameters, or `null` when none matches. */
export function matchRoute(
  routes: readonly Route[],
  method: string,
  path: string,
): { route: Route; params: string[] } | null {
  for (const route of routes) {
    const match = route.method === method ? route.pattern.exec(path) : null;
    if (match) return { route, params: match.slice(1).map((p) => safeDecode(p)) };
  }
  return null;
}

/**
 * What the endpoint at `method` and `path` (below the prefix) does with sign-ins, or `null` when no
 * endpoint matches. For an app that mounts its session middleware per path: only endpoints that
 * read or keep a sign-in need it (all but `POST /login/options`).
 */
export function endpointSessions(method: string, path: string): SessionUse | null {
  // The route table's metadata; its `run` functions are never called, so it needs no instance.
  routeTable ??= buildRoutes(undefined as unknown as Passgate);
  return matchRoute(routeTable, method.toUpperCase(), path)?.route.sessions ?? null;
}
let routeTable: Route[] | undefined;

/** The contract's endpoints (`http-api.md`), each calling one `Passgate` operation. */
export function buildRoutes(passgate: Passgate): Route[] {
  return [
    {
      method: 'POST',
      pattern: PATHS.registerOptions,
      rateLimited: true,
      body: 'optional',
      auth: false,
      sessions: 'reads',
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
      pattern: PATHS.registerVerify,
      rateLimited: true,
      body: 'required',
      auth: false,
      sessions: 'reads',
      async run({ request, body, context, cookie }) {
        const response = parseBody(registrationResponseSchema, body);
        return withCeremony(passgate.runtime.logger, cookie, request, undefined, async (ceremonyId) => {
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
      pattern: PATHS.loginOptions,
      rateLimited: true,
      countsInCeremony: true,
      body: 'optional',
      auth: false,
      sessions: 'none',
      async run({ body, context, cookie, count }) {
        const input = parseBody(loginOptionsBodySchema, body);
        const started = await passgate.startAuthentication({
          username: input.username,
          hints: input.hints,
          context,
          count,
        });
        return ceremonyStarted(started, cookie, passgate.runtime.policy.challengeTtlMs);
      },
    },
    {
      method: 'POST',
      pattern: PATHS.loginVerify,
      rateLimited: true,
      countsInCeremony: true,
      body: 'required',
      auth: false,
      sessions: 'keeps',
      async run({ request, body, context, cookie, count }) {
        const response = parseBody(authenticationResponseSchema, body);
        return withCeremony(passgate.runtime.logger, cookie, request, count, async (ceremonyId) => {
          const result = await passgate.finishAuthentication({
            ceremonyId,
            response,
            context,
            count,
            beginSignIn: request.beginSignIn,
          });
          return json(200, { verified: true, user: result.user, credential: result.credential }, [], {
            type: 'sign_in',
            session: result.session,
            user: result.user,
            kept: result.kept,
          });
        });
      },
    },
    {
      method: 'GET',
      pattern: PATHS.session,
      rateLimited: false,
      body: 'ignored',
      auth: true,
      sessions: 'reads',
      async run({ request }) {
        return json(200, await passgate.describeSession(request.session));
      },
    },
    {
      method: 'POST',
      pattern: PATHS.logout,
      rateLimited: false,
      body: 'ignored',
      auth: false,
      sessions: 'keeps',
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
      pattern: PATHS.credentials,
      rateLimited: false,
      body: 'ignored',
      auth: true,
      sessions: 'reads',
      async run({ request, context }) {
        return json(200, await passgate.listCredentials(request.session, context));
      },
    },
    {
      method: 'PATCH',
      pattern: PATHS.credential,
      rateLimited: false,
      body: 'required',
      // The contract checks the body (400) before the session (401): parse first, then require one.
      auth: false,
      sessions: 'reads',
      async run({ request, params, body }) {
        const { nickname } = parseBody(renameBodySchema, body);
        if (!request.session) throw new PassgateError('unauthenticated');
        const id = credentialIdParam(params[0]);
        return json(200, await passgate.renameCredential(request.session, id, nickname));
      },
    },
    {
      method: 'DELETE',
      pattern: PATHS.credential,
      rateLimited: false,
      body: 'ignored',
      auth: true,
      sessions: 'reads',
      async run({ request, params, context }) {
        const id = credentialIdParam(params[0]);
        return json(200, await passgate.deleteCredential(request.session, id, context));
      },
    },
  ];
}

/**
 * A verify consumes the ceremony named by the cookie whatever happens next, so the cookie is cleared
 * on every answer from here on, success or failure; except when the per-IP bucket refused the request
 * (`count`), which consumed nothing: that error goes to the handler, which answers it as it would
 * have before the verify started.
 */
async function withCeremony(
  logger: PassgateLogger,
  cookie: CeremonyCookieOptions,
  request: ContractRequest,
  count: RequestCount | undefined,
  run: (ceremonyId: string | undefined) => Promise<ContractResponse>,
): Promise<ContractResponse> {
  const ceremonyId = readCookie(header(request, 'cookie'), cookie.name);
  const clear = clearCeremonyCookie(cookie);
  try {
    const response = await run(ceremonyId);
    response.cookies.push(clear);
    return response;
  } catch (error) {
    if (count?.refused) throw error;
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

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
