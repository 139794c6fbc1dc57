import { createContractHandler, pathBelow } from '@passgate/core/http';
import { contractHandlerOptions, fastifyContractHook, fastifySignInAdapter } from '@passgate/core/node';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { PasskeyPluginOptions } from './options.js';

const plugin: FastifyPluginAsync<PasskeyPluginOptions> = async (fastify, options) => {
  const { passgate } = options ?? {};
  if (!passgate)
    throw new TypeError('passgate: the passkeys plugin needs a `passgate` (from createPassgate).');
  const handler = createContractHandler(passgate, contractHandlerOptions(options));
  const signIns = fastifySignInAdapter(passgate, options as Parameters<typeof fastifySignInAdapter>[1]);
  fastify.decorateRequest('passkey', undefined);
  const hook = fastifyContractHook({
    passgate,
    signIns,
    contract: true,
    locate: (path) => {
      const below = pathBelow(handler.prefix, path);
      return below === undefined ? undefined : { handler, below };
    },
  });
  fastify.addHook('onRequest', (request, reply) => hook(request, reply));
};

/**
 * The Passgate HTTP contract as a Fastify 5 plugin: `app.register(passkeys, { passgate })` after
 * @fastify/cookie and @fastify/session (or with `session` hooks). It answers the contract's routes
 * below `prefix` and `GET /.well-known/webauthn` in an `onRequest` hook, before Fastify parses any
 * body (the contract reads its bodies from `request.raw`, bounded), and sets `request.passkey` on
 * every other request. Not encapsulated (fastify-plugin): the hook covers the whole app.
 *
 * All contract logic lives in `@passgate/core/http` and the Node/Fastify glue in
 * `@passgate/core/node`, shared with `@passgate/express` and `@passgate/nestjs`.
 */
export const passkeys = fp(plugin, { fastify: '5.x', name: '@passgate/fastify' });
