import { contractErrorResponse, writeContractResponse } from '@passgate/core/node';
import type { ErrorRequestHandler } from 'express';
import { passgateOf } from './instance.js';

/**
 * Errors of Express's own body parsers mapped to the contract's codes.
 * @deprecated Import `fromBodyParserError` from `@passgate/core/node` (the same function).
 */
export { fromBodyParserError } from '@passgate/core/node';

/**
 * Express error middleware answering with the contract's error body: a `PassgateError` with its own
 * status and code, body-parser failures as `invalid_request`/`payload_too_large`/
 * `unsupported_media_type`, anything else as `500 internal_error` (never a stack or a message).
 * The passkey router uses it for its own routes; mount it after your routes to get the same bodies
 * from `requireSignIn()` failures you forward or from your own `throw new PassgateError(...)`.
 */
export function passkeyErrorHandler(): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    writeContractResponse(res, contractErrorResponse(error, passgateOf(req)));
  };
}
