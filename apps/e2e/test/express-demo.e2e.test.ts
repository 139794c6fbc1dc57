import { loadDemoConfig, startDemo } from '@passgate/express-demo';
import { describeDemoInBrowser } from './browser-suite.js';

// The Express demo, started in-process on an ephemeral port with in-memory stores.
describeDemoInBrowser('express', async (env = {}) => {
  const config = loadDemoConfig(
    { PORT: '0', SESSION_SECRET: 'e2e-session-secret-not-for-production', PASSGATE_STORE: 'memory', ...env },
    { warn: () => {} },
  );
  const demo = await startDemo(config, { log: () => {} });
  return { url: demo.url, close: demo.close };
});
