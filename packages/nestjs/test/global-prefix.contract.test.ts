import { describeHttpContract } from '@passgate/testing/contract';
import { PasskeysModule } from '../src/index.js';
import { boot, bootFastify } from './helpers.js';

/**
 * The shared contract suite with the module's default prefix repeated inside Nest's global prefix
 * (`setGlobalPrefix('passkeys')`): the contract is at `/passkeys/passkeys`, on both platforms.
 */
for (const [name, start] of [
  ['nestjs behind the global prefix passkeys', boot],
  ['nestjs on fastify behind the global prefix passkeys', bootFastify],
] as const) {
  describeHttpContract(name, async ({ passgate, identify, onPasskeySignIn }) => {
    const { url, close } = await start(
      { imports: [PasskeysModule.forRoot({ passgate, identify, onPasskeySignIn })] },
      { globalPrefix: 'passkeys' },
    );
    return { url, prefix: '/passkeys/passkeys', close };
  });
}
