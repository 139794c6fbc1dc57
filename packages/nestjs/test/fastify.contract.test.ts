import { describeHttpContract } from '@passgate/testing/contract';
import { PasskeysModule } from '../src/index.js';
import { bootFastify } from './helpers.js';

/**
 * The shared contract suite against a Nest app on @nestjs/platform-fastify with @fastify/session
 * (its memory store) and Fastify's own JSON parser left on for the app's routes.
 */
describeHttpContract('nestjs on fastify', async ({ passgate, identify, onPasskeySignIn }) => {
  const { url, close } = await bootFastify({
    imports: [PasskeysModule.forRoot({ passgate, identify, onPasskeySignIn })],
  });
  return { url, close };
});
