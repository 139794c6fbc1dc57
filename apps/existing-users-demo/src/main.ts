/** `node dist/main.js`: the existing-users demo configured by the contract's "Demo apps' environment". */
import { closeOnSignals, loadConfigOrExit, type RunningDemo, startOrExit } from '@passgate/demo-server';
import type { Express } from 'express';
import { startExistingUsersDemo } from './server.js';

const config = loadConfigOrExit();

let demo: RunningDemo<Express> | undefined;
// Listening for signals before the start: one during it exits at once.
closeOnSignals(() => demo);
demo = await startOrExit(() => startExistingUsersDemo(config));
