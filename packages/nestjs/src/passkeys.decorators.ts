import {
  applyDecorators,
  createParamDecorator,
  type ExecutionContext,
  Inject,
  Injectable,
  type PipeTransform,
  SetMetadata,
  UseGuards,
} from '@nestjs/common';
import {
  isApplicationSignIn,
  isPassgateError,
  Passgate,
  type SignIn as Session,
  type UserView,
} from '@passgate/core';
import { IS_PUBLIC_KEY, PASSGATE, RECENT_AUTHENTICATION_KEY } from './passkeys.constants.js';
import { PassgateHttpException } from './passkeys.filter.js';
import { PasskeysGuard, type RecentAuthenticationRequirement } from './passkeys.guard.js';

/** Marks a route (or controller) as open when `PasskeysGuard` is the app-wide guard. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC_KEY, true);

/**
 * For sensitive routes (changing an email, paying out): `401 unauthenticated` without a sign-in,
 * `401 reauthentication_required` when it is older than `maxAgeSeconds` (default: the instance's
 * sensitive-action window) or, with `{ userVerified: true }`, lacked user verification. Applies
 * `PasskeysGuard` itself, and wins over `@Public()`.
 */
export function RequireRecentAuthentication(
  maxAgeSeconds?: number,
  options: { userVerified?: boolean } = {},
): MethodDecorator & ClassDecorator {
  const requirement: RecentAuthenticationRequirement = {};
  if (maxAgeSeconds !== undefined) requirement.maxAgeSeconds = maxAgeSeconds;
  if (options.userVerified !== undefined) requirement.userVerified = options.userVerified;
  return applyDecorators(SetMetadata(RECENT_AUTHENTICATION_KEY, requirement), UseGuards(PasskeysGuard));
}

const sessionOf = (_data: unknown, context: ExecutionContext): Session | null =>
  context.switchToHttp().getRequest<{ passkey?: Session | null }>().passkey ?? null;

const passkeySession = createParamDecorator(sessionOf);

/**
 * The request's sign-in, or `null`: a `PasskeySession` (who signed in, with which passkey, when,
 * user-verified?) or, with `identify`, the application's own user (`source: 'application'`).
 */
export const PasskeySession = (): ParameterDecorator => passkeySession();

/** Loads the `User` (`{ id, name, displayName }`) of a session; `null` when signed out or the account is gone. */
@Injectable()
export class CurrentUserPipe implements PipeTransform<Session | null, Promise<UserView | null>> {
  constructor(@Inject(PASSGATE) private readonly passgate: Passgate) {}

  async transform(session: Session | null): Promise<UserView | null> {
    if (!session) return null;
    // The application's own user is named as the application names them, passkey or not.
    if (isApplicationSignIn(session)) {
      return { id: session.userId, name: session.name, displayName: session.displayName };
    }
    try {
      const account = await this.passgate.getAccount(session);
      return { id: account.userId, name: account.username, displayName: account.displayName };
    } catch (error) {
      if (isPassgateError(error, 'unauthenticated')) return null;
      throw isPassgateError(error) ? new PassgateHttpException(error) : error;
    }
  }
}

const currentUser = createParamDecorator(sessionOf);

/**
 * The signed-in `User` (`{ id, name, displayName }`, `id` being your application's user id), read
 * from the account store when the handler runs; `null` when nobody is signed in (on `@Public()`
 * routes). Use `@PasskeySession()` when the session's ids are enough.
 */
export const CurrentUser = (): ParameterDecorator => currentUser(undefined, CurrentUserPipe);
