/** `node dist/main.js`: the NestJS demo configured by the environment (the contract's "Demo apps' environment"). */
import {
  closeOnSignals,
  installConsoleTelemetry,
  loadConfigOrExit,
  startOrExit,
} from '@passgate/demo-server';
import { startDemo } from './server.js';

installConsoleTelemetry();
const config = loadConfigOrExit();

// Listening for signals only once started: one during the start ends the process the default way.
const demo = await startOrExit(() => startDemo(config));
closeOnSignals(() => demo);
