import { loadDemoConfig, startDemo } from '@passgate/nestjs-demo';
import { describeDemoInBrowser } from './browser-suite.js';

// The NestJS demo, started in-process on an ephemeral port with in-memory stores: the same browser
// suite as the Express demo, so both demos (and both framework packages) behave alike in Chromium.
describeDemoInBrowser('nestjs', async (env = {}) => {
  const config = loadDemoConfig(
    { PORT: '0', SESSION_SECRET: 'e2e-session-secret-not-for-production', PASSGATE_STORE: 'memory', ...env },
    { warn: () => {} },
  );
  const demo = await startDemo(config, { log: () => {}, nestLogLevels: false });
  return { url: demo.url, close: demo.close };
});
