export { type CeremonyCookieOptions, ceremonyCookie, clearCeremonyCookie, readCookie } from './cookies.js';
export {
  type ContractHandler,
  type ContractHandlerOptions,
  createContractHandler,
  DEFAULT_COOKIE_NAME,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_PREFIX,
} from './handler.js';
export { locatePrefix, normalizePrefix, pathBelow } from './paths.js';
export { readLimitedStream } from './read-stream.js';
export { errorResponse } from './responses.js';
export {
  CONTRACT_PATH_TEMPLATES,
  endpointSessions,
  endsInContractPath,
  isContractPath,
  locateContractPath,
  type SessionUse,
} from './routes.js';
export { identifyRequest, resolveRequestSignIn, type SignInSources } from './sign-in.js';
export type {
  ContractBody,
  ContractRequest,
  ContractResponse,
  ResolvedContractRequest,
  SessionAction,
} from './types.js';
export { WELL_KNOWN_WEBAUTHN_PATH, wellKnownWebauthn } from './well-known.js';
