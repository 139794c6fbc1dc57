import { describe, expect, it } from 'vitest';
import { loadDemoConfig, startDemo } from '../src/index.js';

// The demo's server makes each request and response with Express's own prototypes
// (serverPrototypes), so Express's per-request Object.setPrototypeOf is a no-op: with it, a sign-in
// costs the demo about 40 % fewer CPU instructions (V8 keeps the swapped objects' garbage alive
// across young-generation collections; README, Performance).
describe('the demo server', () => {
  it('makes requests and responses with the Express app’s prototypes once the app serves', async () => {
    const demo = await startDemo(loadDemoConfig({ PORT: '0' }, { warn: () => {} }), {
      log: () => {},
      host: '127.0.0.1',
    });
    const arrived: boolean[] = [];
    demo.server.prependListener('request', (req, res) => {
      arrived.push(
        Object.getPrototypeOf(req) === demo.app.request && Object.getPrototypeOf(res) === demo.app.response,
      );
    });
    try {
      const health = await fetch(`http://127.0.0.1:${demo.port}/healthz`);
      expect(await health.json()).toEqual({ ok: true, store: 'memory' });
      expect(arrived).toEqual([true]);
    } finally {
      await demo.close();
    }
  });
});
