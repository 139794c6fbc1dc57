import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Passgate } from '@passgate/core';
import {
  IS_PUBLIC_KEY,
  PASSGATE,
  PASSKEY_SESSIONS,
  RECENT_AUTHENTICATION_KEY,
} from './passkeys.constants.js';
import { PassgateHttpException } from './passkeys.filter.js';
import { type PasskeySessions, resolveSession } from './session.js';

/** What `@RequireRecentAuthentication()` asks for. */
export interface RecentAuthenticationRequirement {
  /** Oldest acceptable sign-in, in seconds. Default: the instance's `reauthenticationWindowSeconds` (300). */
  maxAgeSeconds?: number;
  /** Also require that the authenticator verified the user (UV) at that sign-in. */
  userVerified?: boolean;
}

/**
 * Lets a request through when someone is signed in (a passkey session, or the application's own
 * signed-in user from `identify`), else `401 unauthenticated` with
 * the contract's error body. On routes marked `@RequireRecentAuthentication()`, a sign-in older than
 * the window (or without user verification, when asked) gets `401 reauthentication_required`: the
 * client runs a passkey sign-in again and retries.
 *
 * Per route or controller: `@UseGuards(PasskeysGuard)`. App-wide:
 * `{ provide: APP_GUARD, useClass: PasskeysGuard }`, with `@Public()` on the open routes (the
 * passkey routes themselves are middleware and never reach guards).
 */
@Injectable()
export class PasskeysGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(PASSGATE) private readonly passgate: Passgate,
    @Inject(PASSKEY_SESSIONS) private readonly sessions: PasskeySessions,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const req = context.switchToHttp().getRequest<object>();
    const targets = [context.getHandler(), context.getClass()];
    const recent = this.reflector.getAllAndOverride<RecentAuthenticationRequirement | undefined>(
      RECENT_AUTHENTICATION_KEY,
      targets,
    );
    const isPublic = this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_KEY, targets) === true;
    const session = await resolveSession(this.sessions, req, context.switchToHttp().getResponse<unknown>());
    if (!recent && isPublic) return true;
    if (!session) throw new PassgateHttpException('unauthenticated');
    if (recent && !this.passgate.isRecentAuthentication(session, recent)) {
      throw new PassgateHttpException('reauthentication_required');
    }
    return true;
  }
}
