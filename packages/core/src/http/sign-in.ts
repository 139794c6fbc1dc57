import { isPassgateError, PassgateError } from '../errors.js';
import type { Passgate } from '../passgate.js';
import type { ApplicationSignIn, ResolvedSignIn } from '../sign-in.js';
import type { PasskeySession } from '../types.js';

/**
 * Runs an integration's `identify` option for one request and checks its answer. A throw or an
 * answer that is not an `IdentifiedUser` (or null) is logged naming `option` and rejects with
 * `internal_error`: both frameworks answer 500 on the passkey routes and never guess a user.
 */
export async function identifyRequest(
  passgate: Passgate,
  identify: () => unknown,
  option = 'identify',
): Promise<ApplicationSignIn | null> {
  let value: unknown;
  try {
    value = await identify();
  } catch (error) {
    if (isPassgateError(error)) throw error;
    passgate.runtime.logger.error(`passgate: the \`${option}\` option threw`, {
      option,
      error: error instanceof Error ? error.message : String(error),
    });
    throw new PassgateError('internal_error', undefined, { reason: 'identify_threw', cause: error });
  }
  return passgate.checkIdentifiedUser(value, option);
}

/** What an integration knows about a request's sign-in before resolving it. */
export interface SignInSources {
  /** Passgate's own session (express-session, or the session hooks), or null. */
  session: PasskeySession | null;
  /** The application's `identify` option bound to this request, when configured. */
  identify?: (() => unknown) | undefined;
  /** The option's name for log lines. Default `identify`. */
  option?: string;
}

/**
 * The request's sign-in from both sources (see `Passgate.resolveSignIn`): the integrations call this
 * once per request and end the session when `ended` is true.
 */
export async function resolveRequestSignIn(
  passgate: Passgate,
  sources: SignInSources,
): Promise<ResolvedSignIn> {
  const identified = sources.identify
    ? await identifyRequest(passgate, sources.identify, sources.option ?? 'identify')
    : null;
  return passgate.resolveSignIn(sources.session, identified);
}
