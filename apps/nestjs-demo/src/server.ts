import 'reflect-metadata';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { publicDir, simplewebauthnBrowserDir, simplewebauthnBrowserPath } from '@passgate/demo-web';
import type { DemoConfig } from '@passgate/demo-web/config';
// The store wiring (PASSGATE_STORE: memory, redis, postgres; sessions kept next to the passkeys) and
// the origin rules are the Express demo's, imported rather than copied, so both demos run alike.
import {
  createDemoBackend,
  type DemoBackend,
  type DemoBackendOptions,
  type ResolvedDemoConfig,
  resolveOrigin,
} from '@passgate/express-demo';
import express from 'express';
import session from 'express-session';
import { DemoModule, SESSION_COOKIE_NAME } from './app.module.js';
import { loadPage } from './page.js';

export interface RunningDemo {
  /** The URL to open: the configured origin (ORIGIN, or http://localhost:<port>). */
  url: string;
  port: number;
  config: ResolvedDemoConfig;
  app: NestExpressApplication;
  server: Server;
  backend: DemoBackend;
  /** Stops accepting connections, ends open ones, closes the Nest app and the store connections. Idempotent. */
  close(): Promise<void>;
}

export interface StartDemoOptions extends DemoBackendOptions {
  /** Interface to listen on. Default: all. */
  host?: string;
  /** Start-up log line. Default `console.log`; pass `() => {}` to silence. */
  log?: (message: string) => void;
  /** Nest's own log levels. Default `['error', 'warn']`. */
  nestLogLevels?: LogLevel[] | false;
}

/**
 * Starts the NestJS demo, exactly like the Express demo's `startDemo`: listens on `config.port`
 * (0 = a free port), connects the stores, then serves the app. Resolves once it is ready.
 */
export async function startDemo(config: DemoConfig, options: StartDemoOptions = {}): Promise<RunningDemo> {
  const log = options.log ?? console.log;
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const resolved = resolveOrigin(config, port);

  let backend: DemoBackend;
  let app: NestExpressApplication;
  try {
    backend = await createDemoBackend(resolved, options);
  } catch (error) {
    await new Promise((resolve) => server.close(resolve));
    throw error;
  }
  try {
    const instance = express();
    app = await NestFactory.create<NestExpressApplication>(
      DemoModule.forRoot(resolved, backend, loadPage()),
      new ExpressAdapter(instance),
      { logger: options.nestLogLevels ?? ['error', 'warn'] },
    );
    app.disable('x-powered-by');
    // Static files first: they need no session.
    app.use(
      simplewebauthnBrowserPath,
      express.static(simplewebauthnBrowserDir, { index: false, maxAge: '1h' }),
    );
    app.use(express.static(publicDir, { index: false }));
    app.use(
      session({
        name: SESSION_COOKIE_NAME,
        secret: resolved.sessionSecret,
        store: backend.sessionStore,
        resave: false,
        saveUninitialized: false,
        rolling: true,
        cookie: {
          httpOnly: true,
          sameSite: 'lax',
          secure: resolved.origin.startsWith('https:'),
          maxAge: 8 * 60 * 60 * 1000,
        },
      }),
    );
    await app.init();
    server.on('request', instance);
  } catch (error) {
    await new Promise((resolve) => server.close(resolve));
    await backend.close();
    throw error;
  }

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      });
      await app.close();
      await backend.close();
    })();
    return closing;
  };

  log(`Passgate NestJS demo: passkeys and sessions ${backend.description}. Open ${resolved.origin}`);
  return { url: resolved.origin, port, config: resolved, app, server, backend, close };
}
