/** Core's own console logger (warnings and errors), re-exported for the demos' callers. */
export { consoleLogger } from '@passgate/core';
export { createDemoApp, type DemoMiddlewareOptions, demoMiddleware, SESSION_COOKIE_NAME } from './app.js';
export {
  createDemoBackend,
  type DemoBackend,
  type DemoBackendOptions,
  type DemoConnection,
  redactUrl,
  withStoreOutages,
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
export { closeOnSignals, startOrExit } from './run.js';
export {
  type DemoApp,
  type RunningDemo,
  type StartDemoOptions,
  serveDemo,
  startDemo,
} from './server.js';
export { type ConsoleTelemetry, installConsoleTelemetry } from './telemetry.js';
