import type { Passgate } from '@passgate/core';
import type { PasskeyHttpOptions } from '@passgate/core/node';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The options every integration takes (`PasskeyHttpOptions` of `@passgate/core/node`: prefix,
 * cookies, body limit, sessions, the application's own sign-in) on Fastify's request and reply, and
 * the Passgate instance. `session: 'express-session'` (the default) means @fastify/session's
 * `request.session`; `sessionCookieName` must then be its `cookieName`. `secureCookies: 'auto'`
 * follows `request.protocol`, so behind a TLS-terminating proxy set Fastify's `trustProxy`.
 */
export interface PasskeyPluginOptions extends PasskeyHttpOptions<FastifyRequest, FastifyReply> {
  /** The configured Passgate instance (`createPassgate(...)`); its rate limits and policy apply. Required. */
  passgate: Passgate;
}
