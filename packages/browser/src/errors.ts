/** The error codes of the Passgate HTTP contract (stable API; messages are not). */
export type ServerErrorCode =
  | 'forbidden_origin'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'rate_limited'
  | 'invalid_request'
  | 'unauthenticated'
  | 'username_taken'
  | 'verification_failed'
  | 'credential_exists'
  | 'ceremony_expired'
  | 'unknown_credential'
  | 'credential_cloned'
  | 'not_found'
  | 'last_credential'
  | 'too_many_credentials'
  | 'reauthentication_required'
  | 'store_unavailable'
  | 'internal_error';

/**
 * Causes found in the browser rather than on the server:
 * - `cancelled`: the user dismissed the prompt, it timed out, the authenticator could not verify
 *   the user (browsers report all of these alike, on purpose), or the request was aborted.
 * - `already_registered`: the authenticator already holds a passkey for this account
 *   (`excludeCredentials`); use another device or security key.
 * - `unsupported`: this browser has no WebAuthn (or no autofill, for `signInWithAutofill`), or no
 *   available authenticator can do what the options ask for.
 * - `security_error`: the browser refused the RP ID for this page: the server's RP ID or origins do
 *   not match the page's address (a deployment fault).
 * - `network`: the server could not be reached, or answered with something that is not the
 *   contract's JSON (a proxy's error page, for instance).
 * - `browser_error`: any other failure of the browser's WebAuthn call; see `cause`.
 */
export type BrowserErrorCode =
  | 'cancelled'
  | 'already_registered'
  | 'unsupported'
  | 'security_error'
  | 'network'
  | 'browser_error';

/** A known code, or a code added to the contract after this client was built. */
export type PasskeyErrorCode = ServerErrorCode | BrowserErrorCode | (string & {});

export interface PasskeyErrorDetails {
  /** The HTTP status, for errors the server answered. */
  status?: number;
  /** On `invalid_request`: the JSON path of the rejected field (e.g. `username`). */
  field?: string;
  /** On `unknown_credential`: the credential id the server does not know. */
  credentialId?: string;
  /** On `rate_limited`: seconds to wait (the `Retry-After` header), when the server sent it. */
  retryAfter?: number;
  /** The underlying error (a DOMException, a TypeError from `fetch`, ...). */
  cause?: unknown;
}

/**
 * The one error type every client method rejects with. `code` is stable (branch on it); `message`
 * is the server's message for server errors, or the browser's, and is meant for logs rather than
 * for end users (map `code` to your own wording).
 */
export class PasskeyError extends Error {
  override readonly name = 'PasskeyError';
  readonly code: PasskeyErrorCode;
  readonly status: number | undefined;
  readonly field: string | undefined;
  readonly credentialId: string | undefined;
  readonly retryAfter: number | undefined;
  /**
   * Set on `reauthentication_required` only: signs the same user in again (a passkey prompt limited
   * to that account's passkeys), then retries the action that failed and resolves with its result.
   * Rejects with a `PasskeyError` when the sign-in fails or is cancelled, or when another account
   * signed in meanwhile (`unauthenticated`).
   */
  reauthenticate?: () => Promise<unknown>;

  constructor(code: PasskeyErrorCode, message: string, details: PasskeyErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.status = details.status;
    this.field = details.field;
    this.credentialId = details.credentialId;
    this.retryAfter = details.retryAfter;
  }
}

/** True for a {@link PasskeyError}, optionally with one of the given codes. */
export function isPasskeyError(error: unknown, ...codes: PasskeyErrorCode[]): error is PasskeyError {
  return error instanceof PasskeyError && (codes.length === 0 || codes.includes(error.code));
}

interface ErrorBody {
  error?: { code?: unknown; message?: unknown; field?: unknown; credentialId?: unknown };
}

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** The error for a non-2xx answer: the contract's `{ error: { code, message } }`, or `network`. */
export function errorFromResponse(status: number, body: unknown, retryAfter: string | null): PasskeyError {
  const error = (body as ErrorBody | null)?.error;
  const code = text(error?.code);
  if (!code) {
    return new PasskeyError('network', `The server answered ${status} without a Passgate error body.`, {
      status,
    });
  }
  const seconds = retryAfter === null ? Number.NaN : Number(retryAfter);
  return new PasskeyError(code, text(error?.message) ?? code, {
    status,
    field: text(error?.field),
    credentialId: text(error?.credentialId),
    retryAfter: Number.isFinite(seconds) ? seconds : undefined,
  });
}

/**
 * The browser-side code of a failure of `navigator.credentials` (raw, or wrapped by
 * @simplewebauthn/browser's `WebAuthnError`, which keeps the DOMException's name).
 */
const BROWSER_CODES: Record<string, BrowserErrorCode> = {
  NotAllowedError: 'cancelled',
  AbortError: 'cancelled',
  InvalidStateError: 'already_registered',
  NotSupportedError: 'unsupported',
  ConstraintError: 'unsupported',
  SecurityError: 'security_error',
};

/** Wraps anything a WebAuthn call threw into a {@link PasskeyError} (kept as is if it is one). */
export function errorFromBrowser(error: unknown): PasskeyError {
  if (error instanceof PasskeyError) return error;
  const name = (error as { name?: unknown } | null)?.name;
  const message = text((error as { message?: unknown } | null)?.message) ?? String(error);
  const code = (typeof name === 'string' && BROWSER_CODES[name]) || 'browser_error';
  return new PasskeyError(code, message, { cause: error });
}
