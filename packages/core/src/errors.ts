/**
 * Every error code of the Passgate HTTP contract, with the HTTP status it answers with.
 * The codes are stable API; messages are not. The framework packages map a `PassgateError` to a
 * response with nothing but `error.status` and `error.toJSON()`, so no second table can drift.
 */
export const ERROR_STATUS = {
  forbidden_origin: 403,
  unsupported_media_type: 415,
  payload_too_large: 413,
  rate_limited: 429,
  invalid_request: 400,
  unauthenticated: 401,
  username_taken: 409,
  verification_failed: 400,
  credential_exists: 409,
  ceremony_expired: 400,
  unknown_credential: 401,
  credential_cloned: 401,
  not_found: 404,
  last_credential: 409,
  /** Not in contract v1's list: an account already has `maxCredentialsPerAccount` passkeys. */
  too_many_credentials: 409,
  reauthentication_required: 401,
  store_unavailable: 503,
  internal_error: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

const DEFAULT_MESSAGES: Record<ErrorCode, string> = {
  forbidden_origin: 'This request came from an origin that is not allowed.',
  unsupported_media_type: 'The request body must be JSON (application/json).',
  payload_too_large: 'The request body is too large.',
  rate_limited: 'Too many requests. Try again later.',
  invalid_request: 'The request is malformed.',
  unauthenticated: 'You are not signed in.',
  username_taken: 'That username is already taken.',
  verification_failed: 'The passkey could not be verified.',
  credential_exists: 'This passkey is already registered.',
  ceremony_expired: 'This passkey request has expired or was already used. Start again.',
  unknown_credential: 'This passkey is not registered here.',
  credential_cloned: 'This passkey may have been cloned and cannot be used.',
  not_found: 'Not found.',
  last_credential: 'You cannot remove your only passkey.',
  too_many_credentials: 'This account has the most passkeys allowed. Remove one first.',
  reauthentication_required: 'Sign in again to do this.',
  store_unavailable: 'The service is temporarily unavailable. Try again shortly.',
  internal_error: 'Something went wrong.',
};

export interface PassgateErrorOptions {
  /** JSON path of the offending field (`invalid_request` only), e.g. `response.clientDataJSON`. */
  field?: string;
  /** The credential id the client presented (`unknown_credential` only), for `signalUnknownCredential`. */
  credentialId?: string;
  /** Seconds until a retry may succeed (`rate_limited` only); becomes the `Retry-After` header. */
  retryAfterSeconds?: number;
  /**
   * Why a verification failed, for events and logs (never sent to the client: the reason may help an
   * attacker tune a forgery). A short snake_case tag such as `challenge_mismatch`.
   */
  reason?: string;
  cause?: unknown;
}

/** The body every error response carries: `{ "error": { code, message, field?, credentialId? } }`. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; field?: string; credentialId?: string };
}

/**
 * Marks every `PassgateError`, whichever copy of `@passgate/core` made it. An application can end up
 * with two copies (a framework package resolved against another core version, a bundler splitting
 * chunks); a class identity check would then answer a store's `store_unavailable` as a 500. The
 * registry symbol is the same in every copy, so the brand survives.
 */
const BRAND: unique symbol = Symbol.for('passgate.error') as never;

/**
 * The one error type Passgate throws on purpose. `code` is stable; `status` is the contract's HTTP
 * status for it. Anything else thrown out of a ceremony is a bug and is answered as `internal_error`.
 *
 * `instanceof PassgateError` and {@link isPassgateError} recognise errors made by any copy of the
 * core (they check a brand, not the class identity).
 */
export class PassgateError extends Error {
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isBranded(value);
  }

  override readonly name = 'PassgateError';
  readonly [BRAND] = true;
  readonly code: ErrorCode;
  readonly status: number;
  readonly field: string | undefined;
  readonly credentialId: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly reason: string | undefined;

  constructor(code: ErrorCode, message?: string, options: PassgateErrorOptions = {}) {
    super(
      message ?? DEFAULT_MESSAGES[code],
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.field = options.field;
    this.credentialId = options.credentialId;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.reason = options.reason;
  }

  /** The contract's error body. Stacks, causes and reasons stay on the server. */
  toJSON(): ErrorBody {
    const error: ErrorBody['error'] = { code: this.code, message: this.message };
    if (this.field !== undefined) error.field = this.field;
    if (this.credentialId !== undefined) error.credentialId = this.credentialId;
    return { error };
  }
}

function isBranded(value: unknown): value is PassgateError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { [BRAND]?: unknown })[BRAND] === true &&
    Object.hasOwn(ERROR_STATUS, (value as { code?: unknown }).code as PropertyKey)
  );
}

/**
 * Whether `value` is a `PassgateError` (from any copy of `@passgate/core`), optionally of one code.
 * Use this rather than `instanceof` in code that may meet errors from another copy.
 */
export function isPassgateError(value: unknown, code?: ErrorCode): value is PassgateError {
  return isBranded(value) && (code === undefined || value.code === code);
}

/**
 * Thrown by storage adapters when the backing store cannot be reached or did not answer in time.
 * Ceremonies fail closed on it: the contract answers `503 store_unavailable`.
 */
export function storeUnavailable(cause?: unknown, message?: string): PassgateError {
  return new PassgateError('store_unavailable', message, { cause });
}

/** Thrown by `CredentialRepository.create` / `AccountRepository.create` when the credential id is taken. */
export function credentialExists(): PassgateError {
  return new PassgateError('credential_exists');
}

/** Thrown by `CredentialRepository.create` when the account already holds `maxPerAccount` credentials. */
export function tooManyCredentials(): PassgateError {
  return new PassgateError('too_many_credentials');
}

/** Thrown by `AccountRepository.create` when the username is taken. */
export function usernameTaken(): PassgateError {
  return new PassgateError('username_taken');
}

export function invalidRequest(field: string, message: string): PassgateError {
  return new PassgateError('invalid_request', message, { field });
}

export function verificationFailed(reason: string, message?: string, cause?: unknown): PassgateError {
  return new PassgateError('verification_failed', message, { reason, cause });
}

/**
 * Node.js socket and DNS error codes that mean "the store could not be reached", for adapters
 * classifying their client's errors as `store_unavailable`.
 */
export const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
  'ERR_SOCKET_CLOSED',
]);
