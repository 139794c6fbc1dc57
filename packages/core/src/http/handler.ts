import type { RequestContext } from '../config.js';
import { PassgateError } from '../errors.js';
import type { Passgate } from '../passgate.js';
import { RequestCount } from '../request-count.js';
import { checkUnusedJson, decodeJson, hasBody, isJson, readBody } from './body.js';
import type { CeremonyCookieOptions } from './cookies.js';
import { normalizePrefix } from './paths.js';
import { errorResponse, header } from './responses.js';
import { buildRoutes, matchRoute } from './routes.js';
import type { ContractRequest, ContractResponse } from './types.js';

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
    const matched = matchRoute(routes, request.method.toUpperCase(), request.path);
    if (!matched) return null;
    const { route, params } = matched;
    // Before anything else (it throws when the app cannot keep sign-ins): a misconfigured app fails
    // before the endpoint writes anything, not after an account exists.
    if (route.sessions !== 'none') request.sessionsReady?.();

    const origin = header(request, 'origin');
    const host = header(request, 'host');
    const context: RequestContext = {
      ...(request.ip !== undefined ? { ip: request.ip } : {}),
      ...(host !== undefined ? { host } : {}),
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
    // The request's per-IP count, once the checks that come before the limit have passed: here, or
    // by the ceremony with its store operation (`countsInCeremony`).
    let count: RequestCount | undefined;
    try {
      if (route.method !== 'GET') {
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
      const unused = route.body === 'ignored';
      // An unused body of a state-changing request is read all the same (bounded): a chunked one has
      // no Content-Length to be refused by above. A GET's is left alone.
      const raw =
        unused && (route.method === 'GET' || !hasBody(request))
          ? undefined
          : await readBody(request, maxBodyBytes);
      if (route.rateLimited) {
        count = new RequestCount(request.ip);
        if (!route.countsInCeremony) await passgate.countRequest(count);
      }
      const body = unused ? checkUnusedJson(raw) : decodeJson(raw, route.body);
      // Only now the sign-in, which costs a store lookup (its outage is a 503 after the checks above),
      // and only for endpoints that read it.
      const session =
        route.sessions !== 'reads'
          ? null
          : typeof request.session === 'function'
            ? await request.session()
            : request.session;
      if (route.auth && !session) throw new PassgateError('unauthenticated');
      const response = await route.run({
        request: { ...request, session },
        params,
        body,
        context,
        cookie,
        count,
      });
      // The ceremonies count before they write, so this holds only for an endpoint that failed first.
      return (count?.pending && (await countLate(count))) || response;
    } catch (error) {
      return (count?.pending && (await countLate(count))) || errorResponse(error, runtime.logger);
    }
  }

  /**
   * Counts a request its ceremony never counted (it failed before its store operation: a malformed
   * body), so the bucket sees every request. Resolves the answer that wins over the request's own:
   * the refusal (429) or the limiter's failure (503, 500), as when the limit came before everything
   * else; `null` when the bucket took it.
   */
  async function countLate(count: RequestCount): Promise<ContractResponse | null> {
    try {
      await passgate.countRequest(count);
      return null;
    } catch (error) {
      return errorResponse(error, runtime.logger);
    }
  }

  return { handle, prefix, cookieName };
}
