/** `node dist/main.js`: the demo configured by the environment (the contract's "Demo apps' environment"). */
import {
  closeOnSignals,
  installConsoleTelemetry,
  loadConfigOrExit,
  startOrExit,
} from '@passgate/demo-server';
import { type RunningDemo, startDemo } from './server.js';

installConsoleTelemetry();
const config = loadConfigOrExit();

let demo: RunningDemo | undefined;
// Listening for signals before the start: one during it exits at once.
closeOnSignals(() => demo);
demo = await startOrExit(() => startDemo(config));
