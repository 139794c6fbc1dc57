import { describeHttpContract } from '@passgate/testing/contract';
import { PasskeysModule } from '../src/index.js';
import { boot } from './helpers.js';

/**
 * The shared contract suite against a Nest app on @nestjs/platform-express with express-session
 * (MemoryStore) and Nest's default body parser left on, as in a typical existing app.
 */
describeHttpContract('nestjs', async ({ passgate, identify, onPasskeySignIn }) => {
  const { url, close } = await boot({
    imports: [PasskeysModule.forRoot({ passgate, identify, onPasskeySignIn })],
  });
  return { url, close };
});
