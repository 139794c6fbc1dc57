/**
 * The Express demo, plus what it runs on from `@passgate/demo-server` (shared with the other demos),
 * re-exported for its callers (apps/e2e, apps/bench, scripts/soak.mjs).
 */
export {
  type ConsoleTelemetry,
  closeOnSignals,
  consoleLogger,
  createDemoBackend,
  type DemoApp,
  type DemoBackend,
  type DemoBackendOptions,
  type DemoConfig,
  DemoConfigError,
  type DemoConnection,
  type DemoDataLocation,
  type DemoMiddlewareOptions,
  type DemoStore,
  demoMiddleware,
  installConsoleTelemetry,
  loadConfigOrExit,
  loadDemoConfig,
  originFor,
  passgatePolicyOptions,
  type ResolvedDemoConfig,
  redactUrl,
  removeDemoData,
  resolveOrigin,
  SESSION_COOKIE_NAME,
  type StartDemoOptions,
  serveDemo,
  startOrExit,
  withStoreOutages,
} from '@passgate/demo-server';
export { createDemoApp } from './app.js';
export { type RunningDemo, startDemo } from './server.js';
