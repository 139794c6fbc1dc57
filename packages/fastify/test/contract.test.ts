import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import { describeHttpContract } from '@passgate/testing/contract';
import Fastify from 'fastify';
import { passkeys, passkeysRewriteUrl } from '../src/index.js';

const SECRET = 'a-test-secret-of-at-least-32-bytes!!';

/**
 * The shared contract suite against a Fastify 5 app with @fastify/cookie and @fastify/session (its
 * memory store, cookie `connect.sid` like express-session's, not rolling, not Secure on http),
 * Fastify's own JSON parser for the app's routes, and the `rewriteUrl` the README asks for (without
 * it Fastify's router answers a malformed path itself).
 */
describeHttpContract('fastify', async ({ passgate, identify, onPasskeySignIn }) => {
  const app = Fastify({ rewriteUrl: passkeysRewriteUrl() });
  await app.register(fastifyCookie);
  await app.register(fastifySession, {
    secret: SECRET,
    cookieName: 'connect.sid',
    saveUninitialized: false,
    rolling: false,
    cookie: { secure: false },
  });
  await app.register(passkeys, { passgate, identify, onPasskeySignIn });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, close: () => app.close() };
});
