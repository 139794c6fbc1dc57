export { createDemoApp, SESSION_COOKIE_NAME } from './app.js';
export {
  consoleLogger,
  createDemoBackend,
  type DemoBackend,
  type DemoBackendOptions,
  redactUrl,
} from './backend.js';
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
export { type RunningDemo, type StartDemoOptions, startDemo } from './server.js';
