import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { createDemoApp } from './app.js';
import { createDemoBackend, type DemoBackend, type DemoBackendOptions } from './backend.js';
import { type DemoConfig, type ResolvedDemoConfig, resolveOrigin } from './config.js';

export interface RunningDemo {
  /** The URL to open: the configured origin (ORIGIN, or http://localhost:<port>). */
  url: string;
  port: number;
  config: ResolvedDemoConfig;
  app: Express;
  server: Server;
  backend: DemoBackend;
  /** Stops accepting connections, ends open ones and closes the store connections. Idempotent. */
  close(): Promise<void>;
}

export interface StartDemoOptions extends DemoBackendOptions {
  /** Interface to listen on. Default: all (like `app.listen(port)`). */
  host?: string;
  /** Start-up log line. Default `console.log`; pass `() => {}` to silence. */
  log?: (message: string) => void;
}

/**
 * Starts the demo: listens on `config.port` (0 = a free port), then connects the stores and serves
 * the app. Resolves once it is ready.
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
  try {
    backend = await createDemoBackend(resolved, options);
  } catch (error) {
    await new Promise((resolve) => server.close(resolve));
    throw error;
  }
  const app = createDemoApp(resolved, backend);
  server.on('request', app);

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      });
      await backend.close();
    })();
    return closing;
  };

  log(`Passgate demo: passkeys and sessions ${backend.description}. Open ${resolved.origin}`);
  return { url: resolved.origin, port, config: resolved, app, server, backend, close };
}
