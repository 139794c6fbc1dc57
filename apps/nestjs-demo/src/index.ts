export {
  type DemoConfig,
  DemoConfigError,
  loadDemoConfig,
  originFor,
} from '@passgate/demo-web/config';
export { DemoModule, SESSION_COOKIE_NAME } from './app.module.js';
export { type RunningDemo, type StartDemoOptions, startDemo } from './server.js';
