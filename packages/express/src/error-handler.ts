import { PassgateError } from '@passgate/core';
import { errorResponse } from '@passgate/core/http';
import type { ErrorRequestHandler } from 'express';
import { passgateOf } from './instance.js';
import { writeContractResponse } from './response.js';

/**
 * Errors of Express's own body parsers (body-parser's `type`), when the host app parses bodies before
 * the router, mapped to the contract's codes, so a global `express.json()` cannot leak its own format.
 * `undefined` for anything else.
 */
export function fromBodyParserError(error: unknown): PassgateError | undefined {
  if (!error || typeof error !== 'object') return undefined;
  switch ((error as { type?: unknown }).type) {
    case 'entity.parse.failed':
      return new PassgateError('invalid_request', 'The body is not valid JSON.', {
        field: '$',
        cause: error,
      });
    case 'entity.too.large':
      return new PassgateError('payload_too_large', undefined, { cause: error });
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return new PassgateError('unsupported_media_type', undefined, { cause: error });
    default:
      return undefined;
  }
}

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
    const logger = passgateOf(req)?.runtime.logger;
    writeContractResponse(res, errorResponse(fromBodyParserError(error) ?? error, logger));
  };
}
