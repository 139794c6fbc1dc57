import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { storeUnavailable } from '@passgate/core';
import express from 'express';
import { afterAll, describe, expect, it } from 'vitest';
import { demoRoutesTail } from '../src/index.js';

/** An app with two routes of its own (one failing as a store outage, one with a bug), then the tail. */
async function serve() {
  const app = express();
  app.get('/outage', () => {
    throw storeUnavailable(new Error('the store went away'));
  });
  app.get('/bug', () => {
    throw new Error('a bug, with a detail the client must not see');
  });
  app.use(demoRoutesTail({ store: 'redis' }));
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(resolve)) };
}

const demo = await serve();
afterAll(() => demo.close());

describe('demoRoutesTail', () => {
  it('GET and HEAD /healthz: 200 and the store kind only', async () => {
    const health = await fetch(`${demo.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true, store: 'redis' });
    expect((await fetch(`${demo.url}/healthz`, { method: 'HEAD' })).status).toBe(200);
  });

  it('anything no route took: 404, plain text "Not found", whatever the method', async () => {
    for (const method of ['GET', 'POST', 'DELETE']) {
      const missing = await fetch(`${demo.url}/nope`, { method });
      expect(missing.status, method).toBe(404);
      expect(missing.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(await missing.text()).toBe('Not found');
    }
    // /healthz answers GET (and HEAD) only.
    expect((await fetch(`${demo.url}/healthz`, { method: 'POST' })).status).toBe(404);
  });

  it("an error from a route before the tail gets the contract's answer: 503 store_unavailable, 500 internal_error", async () => {
    const outage = await fetch(`${demo.url}/outage`);
    expect(outage.status).toBe(503);
    expect((await outage.json()).error.code).toBe('store_unavailable');
    const bug = await fetch(`${demo.url}/bug`);
    expect(bug.status).toBe(500);
    const body = await bug.json();
    expect(body.error.code).toBe('internal_error');
    expect(JSON.stringify(body)).not.toContain('a bug');
  });
});
