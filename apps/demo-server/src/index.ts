/**
 * What the Passgate demos (express-demo, nestjs-demo, existing-users-demo) share: the environment,
 * the stores by `PASSGATE_STORE`, the static files + session middleware, the routes' shared tail
 * (`/healthz`, 404, the error handler), `serveDemo` (listen, start, shut down), console telemetry
 * and the test clean-up. Private to this repository, never published.
 */
/** Core's own console logger (warnings and errors), re-exported for the demos' callers. */
export { consoleLogger } from '@passgate/core';
/** Now `@passgate/core/node`'s, re-exported for the demos' callers (soak, tests). */
export { withStoreOutages } from '@passgate/core/node';
export {
  createDemoBackend,
  type DemoBackend,
  type DemoBackendOptions,
  type DemoConnection,
  redactUrl,
} from './backend.js';
export { type DemoDataLocation, removeDemoData } from './cleanup.js';
export {
  type DemoConfig,
  DemoConfigError,
  type DemoStore,
  loadConfigOrExit,
  loadDemoConfig,
  originFor,
  passgatePolicyOptions,
  type ResolvedDemoConfig,
  resolveOrigin,
} from './config.js';
export { type DemoMiddlewareOptions, demoMiddleware, SESSION_COOKIE_NAME } from './middleware.js';
export { closeOnSignals, startOrExit } from './run.js';
export { type DemoApp, type RunningDemo, type StartDemoOptions, serveDemo } from './server.js';
export { demoRoutesTail } from './tail.js';
export { type ConsoleTelemetry, installConsoleTelemetry } from './telemetry.js';
