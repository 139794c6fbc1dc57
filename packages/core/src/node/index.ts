/**
 * `@passgate/core/node`: the Node.js glue every framework integration shares (Express, NestJS on
 * Express and on Fastify, `@passgate/fastify`, the testing kit's child process), on plain
 * `node:http` types with no framework import (Fastify's request and reply are typed structurally):
 * a Node request as the contract's request, the contract's response written back, sign-ins kept in
 * a session (express-session, @fastify/session or hooks) and applied from the contract's session
 * actions, body-parser errors as contract errors, and the options all integrations take.
 * @packageDocumentation
 */
export { contractErrorResponse, fromBodyParserError } from './errors.js';
export {
  type FastifyReplyLike,
  type FastifyRequestLike,
  fastifyContractHook,
  fastifySignInAdapter,
  isFastifyRequest,
  passkeysRewriteUrl,
  replyWriter,
} from './fastify.js';
export {
  contractHandlerOptions,
  createSignInAdapter,
  PASSKEY_HTTP_OPTION_KEYS,
  type PasskeyHttpOptions,
} from './options.js';
export { bodyAlreadyRead, type NodeRequestInfo, requestPath, toContractRequest } from './request.js';
export { appendSetCookie, writeContractResponse } from './response.js';
export { nodeWriter, serveContract, serveWellKnown } from './serve.js';
export {
  type PrototypedServerOptions,
  type ServerPrototypes,
  serverPrototypes,
} from './server-prototypes.js';
export {
  asPasskeySession,
  type ConnectSessionLike,
  DEFAULT_SESSION_COOKIE_NAME,
  expressSessionAdapter,
  hooksAdapter,
  type PasskeySessionHooks,
  SESSION_KEY,
  type SessionAdapter,
  type SessionRequest,
} from './session.js';
export { withStoreOutages } from './session-store-outages.js';
export {
  type ApplicationSignInOptions,
  type BegunSignIn,
  type SignInAdapter,
  signInAdapter,
} from './sign-in.js';
