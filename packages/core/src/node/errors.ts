import { PassgateError } from '../errors.js';
import { errorResponse } from '../http/responses.js';
import type { ContractResponse } from '../http/types.js';
import type { Passgate } from '../passgate.js';

/**
 * Errors of the body parsers of Express, Connect and NestJS (body-parser's `type`), when the host
 * app parses bodies before Passgate, mapped to the contract's codes, so a global `express.json()`
 * cannot leak its own format. `undefined` for anything else.
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
 * The contract's answer to any error met while serving a request: a `PassgateError` with its own
 * status and code, body-parser failures as their contract codes, anything else `500 internal_error`
 * (logged with the instance's logger when `passgate` is given; never a stack or a message in the body).
 */
export function contractErrorResponse(error: unknown, passgate?: Passgate): ContractResponse {
  return errorResponse(fromBodyParserError(error) ?? error, passgate?.runtime.logger);
}
