import { PassgateError } from '@passgate/core';
import { errorResponse } from '@passgate/core/http';
import { replyWriter } from '@passgate/core/node';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * A `preHandler` for the app's own routes: lets the request through when someone is signed in
 * (`request.passkey`), else answers `401 unauthenticated` with the contract's error body.
 */
export function requireSignIn(): (
  request: FastifyRequest,
  reply: FastifyReply,
) => Promise<FastifyReply | undefined> {
  return async (request, reply) => {
    if (request.passkey) return undefined;
    replyWriter(reply)(errorResponse(new PassgateError('unauthenticated')));
    return reply;
  };
}
