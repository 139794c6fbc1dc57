import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { serverPrototypes } from '@passgate/core/node';
import { createDemoBackend, type DemoBackend, type DemoBackendOptions } from './backend.js';
import { type DemoConfig, type ResolvedDemoConfig, resolveOrigin } from './config.js';

export interface RunningDemo<App> {
  /** The URL to open: the configured origin (ORIGIN, or http://localhost:<port>). */
  url: string;
  port: number;
  config: ResolvedDemoConfig;
  app: App;
  server: Server;
  backend: DemoBackend;
  /**
   * Stops accepting connections, ends open ones, closes the app (when it has its own `close`) and
   * the store connections. Idempotent.
   */
  close(): Promise<void>;
}

export interface StartDemoOptions extends DemoBackendOptions {
  /** Interface to listen on. Default: all (like `app.listen(port)`). */
  host?: string;
  /** Start-up log line. Default `console.log`; pass `() => {}` to silence. */
  log?: (message: string) => void;
}

/** A demo's app, made by its framework once the origin and the stores are known. */
export interface DemoApp<App> {
  app: App;
  /** Serves the HTTP server's requests. */
  listener: RequestListener;
  /**
   * The prototypes the listener gives requests and responses (an Express app's `request` and
   * `response`): the server then makes them with those already (`serverPrototypes`), so Express's
   * per-request prototype swap does nothing.
   */
  prototypes?: { request: object; response: object };
  /** Closes the app, after the server has stopped and before the stores close. */
  close?: () => Promise<void>;
}

/**
 * What a request gets while the demo is still starting (the stores connecting, the app being made):
 * `503` with `Retry-After: 1` and the contract's error body, at once. The server listens before the
 * app exists (with `PORT=0` the origin is only known once it listens), and a connection accepted with
 * no request handler would hang until the client gave up: a load balancer's health check would wait
 * forever rather than learn "not yet".
 */
const STARTING_BODY = JSON.stringify({
  error: { code: 'store_unavailable', message: 'The service is starting. Try again shortly.' },
});

function answerStarting(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(503, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(STARTING_BODY),
    'retry-after': '1',
    'cache-control': 'no-store',
  });
  res.end(STARTING_BODY);
}

/**
 * Starts a demo, whatever its framework: listens on `config.port` (0 = a free port), connects the
 * stores, makes the app with `createApp` and serves it, then logs `<name>: passkeys and sessions
 * <where>. Open <origin>`. Until the app serves, every request is answered `503` at once (never left
 * hanging). Resolves once it is ready; on a failure closes what it opened and rejects.
 */
export async function serveDemo<App>(
  name: string,
  config: DemoConfig,
  options: StartDemoOptions,
  createApp: (config: ResolvedDemoConfig, backend: DemoBackend) => DemoApp<App> | Promise<DemoApp<App>>,
): Promise<RunningDemo<App>> {
  const log = options.log ?? console.log;
  const prototypes = serverPrototypes();
  const server = createServer(prototypes.options, answerStarting);
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
  let demoApp: DemoApp<App>;
  try {
    demoApp = await createApp(resolved, backend);
    if (demoApp.prototypes) prototypes.use(demoApp.prototypes.request, demoApp.prototypes.response);
    server.off('request', answerStarting);
    server.on('request', demoApp.listener);
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
      await demoApp.close?.();
      await backend.close();
    })();
    return closing;
  };

  log(`${name}: passkeys and sessions ${backend.description}. Open ${resolved.origin}`);
  return { url: resolved.origin, port, config: resolved, app: demoApp.app, server, backend, close };
}
