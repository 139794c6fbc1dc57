import { type Passgate, PassgateError } from '@passgate/core';
import { errorResponse } from '@passgate/core/http';
import { writeContractResponse } from '@passgate/core/node';
import type { RequestHandler } from 'express';
import { passgateOf } from './instance.js';

/**
 * Lets the request through when someone is signed in (`req.passkey`), else answers
 * `401 unauthenticated` with the contract's error body. Mount it after the passkey router, which
 * sets `req.passkey`.
 */
export function requireSignIn(): RequestHandler {
  return (req, res, next) => {
    if (req.passkey) {
      next();
      return;
    }
    writeContractResponse(res, errorResponse(new PassgateError('unauthenticated')));
  };
}

export interface RecentAuthenticationOptions {
  /**
   * Oldest acceptable sign-in, in seconds. Default: the Passgate instance's
   * `reauthenticationWindowSeconds` (300 unless configured).
   */
  maxAgeSeconds?: number;
  /** Also require that the authenticator verified the user (UV) at that sign-in. Default false. */
  userVerified?: boolean;
  /**
   * The Passgate instance whose clock and window apply. Default: the one of the passkey router the
   * request passed through.
   */
  passgate?: Passgate;
}

/**
 * For sensitive app routes (changing an email, paying out): `401 unauthenticated` without a sign-in,
 * `401 reauthentication_required` when the sign-in is older than `maxAgeSeconds` (or lacked user
 * verification when `userVerified` is set); the client then runs a passkey sign-in again.
 */
export function requireRecentAuthentication(options: RecentAuthenticationOptions = {}): RequestHandler {
  return (req, res, next) => {
    const session = req.passkey ?? null;
    if (!session) {
      writeContractResponse(res, errorResponse(new PassgateError('unauthenticated')));
      return;
    }
    const passgate = options.passgate ?? passgateOf(req);
    if (!passgate) {
      next(
        new Error(
          'passgate: requireRecentAuthentication needs the passkey router before it, or a `passgate` option.',
        ),
      );
      return;
    }
    const check: { maxAgeSeconds?: number; userVerified?: boolean } = {};
    if (options.maxAgeSeconds !== undefined) check.maxAgeSeconds = options.maxAgeSeconds;
    if (options.userVerified !== undefined) check.userVerified = options.userVerified;
    if (!passgate.isRecentAuthentication(session, check)) {
      writeContractResponse(res, errorResponse(new PassgateError('reauthentication_required')));
      return;
    }
    next();
  };
}
