import {
  type DemoConfig,
  type RunningDemo as ServedDemo,
  type StartDemoOptions,
  serveDemo,
} from '@passgate/demo-server';
import type { Express } from 'express';
import { createDemoApp } from './app.js';

export type RunningDemo<App = Express> = ServedDemo<App>;

/**
 * Starts the Express demo: listens on `config.port` (0 = a free port), then connects the stores and
 * serves the app. Resolves once it is ready.
 */
export function startDemo(config: DemoConfig, options: StartDemoOptions = {}): Promise<RunningDemo> {
  return serveDemo('Passgate demo', config, options, (resolved, backend) => {
    const app = createDemoApp(resolved, backend);
    return { app, listener: app, prototypes: app };
  });
}
