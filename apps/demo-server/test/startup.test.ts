import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { loadDemoConfig, serveDemo } from '../src/index.js';

const quiet = { warn: () => {} };

async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('start-up', () => {
  it('answers 503 with Retry-After at once while the app is not ready, then serves the app', async () => {
    const port = await freePort();
    const config = loadDemoConfig(
      { PORT: String(port), SESSION_SECRET: 'startup-test-session-secret' },
      quiet,
    );
    let ready!: () => void;
    const appMade = new Promise<void>((resolve) => {
      ready = resolve;
    });
    const starting = serveDemo('startup test', config, { host: '127.0.0.1', log: () => {} }, async () => {
      await appMade; // the stores are still connecting
      return {
        app: null,
        listener: (_req, res) => {
          res.writeHead(200, { 'content-type': 'text/plain' }).end('ready');
        },
      };
    });

    // The server already accepts connections: an early request (a load balancer's health check) gets
    // an answer at once instead of hanging until the app exists.
    let early: Response | undefined;
    for (let attempt = 0; attempt < 50 && !early; attempt += 1) {
      early = await fetch(`http://127.0.0.1:${port}/passkeys/session`, {
        signal: AbortSignal.timeout(5000),
      }).catch(() => new Promise<undefined>((resolve) => setTimeout(resolve, 20)));
    }
    expect(early?.status).toBe(503);
    expect(early?.headers.get('retry-after')).toBe('1');
    expect(await early?.json()).toMatchObject({ error: { code: 'store_unavailable' } });

    ready();
    const demo = await starting;
    try {
      const later = await fetch(`http://127.0.0.1:${port}/`);
      expect(later.status).toBe(200);
      expect(await later.text()).toBe('ready');
    } finally {
      await demo.close();
    }
  });
});
