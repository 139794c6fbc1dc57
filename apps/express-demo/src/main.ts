/** `node dist/main.js`: the demo configured by the environment (the contract's "Demo apps' environment"). */
import { loadConfigOrExit } from './config.js';
import { type RunningDemo, startDemo } from './server.js';

const config = loadConfigOrExit();

let demo: RunningDemo | undefined;
let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping || !demo) {
      if (stopping) console.error('Stopping now.');
      process.exit(stopping ? 1 : 0);
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

try {
  demo = await startDemo(config);
} catch (error) {
  console.error(`The demo could not start: ${(error as Error).message}`);
  process.exit(1);
}
