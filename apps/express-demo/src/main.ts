/** `node dist/main.js`: the demo configured by the environment (the contract's "Demo apps' environment"). */
import { loadConfigOrExit } from './config.js';
import { closeOnSignals, startOrExit } from './run.js';
import { type RunningDemo, startDemo } from './server.js';
import { installConsoleTelemetry } from './telemetry.js';

installConsoleTelemetry();
const config = loadConfigOrExit();

let demo: RunningDemo | undefined;
// Listening for signals before the start: one during it exits at once.
closeOnSignals(() => demo);
demo = await startOrExit(() => startDemo(config));
