import 'reflect-metadata';
import type { LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
// The start-up and shutdown, the store wiring (PASSGATE_STORE: memory, redis, postgres; sessions kept
// next to the passkeys), the origin rules and the static files + session middleware are the demos'
// shared ones (@passgate/demo-server), so all the demos run alike.
import {
  demoMiddleware,
  type StartDemoOptions as ServeDemoOptions,
  type RunningDemo as ServedDemo,
  serveDemo,
} from '@passgate/demo-server';
import { loadPage } from '@passgate/demo-web';
import type { DemoConfig } from '@passgate/demo-web/config';
import express from 'express';
import { DemoModule } from './app.module.js';

export type RunningDemo = ServedDemo<NestExpressApplication>;

export interface StartDemoOptions extends ServeDemoOptions {
  /** Nest's own log levels. Default `['error', 'warn']`. */
  nestLogLevels?: LogLevel[] | false;
}

/**
 * Starts the NestJS demo, exactly like the Express demo's `startDemo`: listens on `config.port`
 * (0 = a free port), connects the stores, then serves the app. Resolves once it is ready.
 */
export function startDemo(config: DemoConfig, options: StartDemoOptions = {}): Promise<RunningDemo> {
  return serveDemo('Passgate NestJS demo', config, options, async (resolved, backend) => {
    const instance = express();
    const app = await NestFactory.create<NestExpressApplication>(
      DemoModule.forRoot(resolved, backend, loadPage()),
      new ExpressAdapter(instance),
      { logger: options.nestLogLevels ?? ['error', 'warn'] },
    );
    app.disable('x-powered-by');
    app.use(demoMiddleware(resolved, backend));
    await app.init();
    return { app, listener: instance, prototypes: instance, close: () => app.close() };
  });
}
