import { type ArgumentsHost, Catch, HttpException } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { type ErrorCode, isPassgateError, PassgateError } from '@passgate/core';
import { errorResponse } from '@passgate/core/http';
import { fromBodyParserError } from '@passgate/core/node';
import { writeResponse } from './platform.js';

/**
 * A `PassgateError` as a Nest `HttpException`: the contract's status and error body
 * (`{ error: { code, message } }`). The guard throws these, so even without
 * `PasskeysExceptionFilter` Nest's own exception layer answers with the contract's body.
 */
export class PassgateHttpException extends HttpException {
  readonly passgateError: PassgateError;

  constructor(error: PassgateError | ErrorCode) {
    const failure = typeof error === 'string' ? new PassgateError(error) : error;
    super(failure.toJSON(), failure.status, { cause: failure });
    this.passgateError = failure;
  }
}

/**
 * Errors of Express's body parsers (body-parser's `type`), raw or as Nest maps them (an
 * `HttpException` whose `cause` is the parser's error), as the contract's codes.
 */
export function fromBodyParser(error: unknown): PassgateError | undefined {
  return fromBodyParserError(error instanceof HttpException ? error.cause : error);
}

/** The `PassgateError` behind an exception, if there is one. */
export function asPassgateError(exception: unknown): PassgateError | undefined {
  if (isPassgateError(exception)) return exception;
  if (exception instanceof PassgateHttpException) return exception.passgateError;
  return fromBodyParser(exception);
}

/**
 * Answers `PassgateError`s (thrown by `PasskeysService` calls in your own endpoints, or by the guard)
 * and body-parser failures with the contract's status, headers and error body
 * (`{ error: { code, message, field?, credentialId? } }`, `Retry-After` on 429). Everything else
 * goes on to Nest's default handling, unchanged.
 *
 * Use it per controller (`@UseFilters(PasskeysExceptionFilter)`) or app-wide
 * (`{ provide: APP_FILTER, useClass: PasskeysExceptionFilter }`). The passkey routes themselves do not
 * need it: the contract layer answers its own errors.
 */
@Catch()
export class PasskeysExceptionFilter extends BaseExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): void {
    const failure = host.getType() === 'http' ? asPassgateError(exception) : undefined;
    const res = failure
      ? host.switchToHttp().getResponse<{ headersSent?: boolean; sent?: boolean }>()
      : undefined;
    if (!failure || !res || res.headersSent === true || res.sent === true) {
      super.catch(exception, host);
      return;
    }
    writeResponse(res, errorResponse(failure));
  }
}
