/** `node dist/main.js`: the NestJS demo configured by the environment (the contract's "Demo apps' environment"). */
import { loadConfigOrExit } from '@passgate/express-demo';
import { startDemo } from './server.js';

const config = loadConfigOrExit();

let demo: Awaited<ReturnType<typeof startDemo>>;
try {
  demo = await startDemo(config);
} catch (error) {
  console.error(`The demo could not start: ${(error as Error).message}`);
  process.exit(1);
}

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) {
      console.error('Stopping now.');
      process.exit(1);
    }
    stopping = true;
    console.log(`${signal}: shutting down…`);
    setTimeout(() => {
      console.error('Shutdown took too long; exiting.');
      process.exit(1);
    }, 10_000).unref();
    demo.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`Shutdown failed: ${(error as Error).message}`);
        process.exit(1);
      },
    );
  });
}
