import { PassgateError } from '@passgate/core';
import { RP_ID } from '@passgate/testing/contract';
import express from 'express';
import session from 'express-session';
import { describe, expect, it } from 'vitest';
import { createPasskeyRouter, passkeyErrorHandler } from '../src/index.js';
import { ContractClient, listen, makePassgate, ORIGIN, SESSION_SECRET } from './helpers.js';

function limitedApp(trustProxy: boolean) {
  const app = express();
  if (trustProxy) app.set('trust proxy', 'loopback');
  app.use(session({ secret: SESSION_SECRET, resave: false, saveUninitialized: false }));
  app.use(
    createPasskeyRouter({
      passgate: makePassgate({
        rateLimits: { perIp: { points: 2, durationSeconds: 60 }, accountFailures: false },
      }),
    }),
  );
  return app;
}

describe('trust proxy decides the per-IP bucket', () => {
  it('with trust proxy, X-Forwarded-For picks the bucket', async () => {
    const server = await listen(limitedApp(true));
    try {
      const client = new ContractClient(server.url);
      const from = (ip: string) => client.post('/login/options', {}, { headers: { 'x-forwarded-for': ip } });
      expect((await from('203.0.113.1')).status).toBe(200);
      expect((await from('203.0.113.1')).status).toBe(200);
      const limited = await from('203.0.113.1');
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
      // Another client behind the same proxy has its own bucket.
      expect((await from('203.0.113.2')).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('without trust proxy, X-Forwarded-For is ignored (one bucket for the socket address)', async () => {
    const server = await listen(limitedApp(false));
    try {
      const client = new ContractClient(server.url);
      const from = (ip: string) => client.post('/login/options', {}, { headers: { 'x-forwarded-for': ip } });
      expect((await from('203.0.113.1')).status).toBe(200);
      expect((await from('203.0.113.2')).status).toBe(200);
      expect((await from('203.0.113.3')).status).toBe(429);
    } finally {
      await server.close();
    }
  });
});

describe('GET /.well-known/webauthn', () => {
  it('serves rp.relatedOrigins at the site root, whatever the prefix', async () => {
    const app = express();
    const origins = ['https://app.example.test', 'https://example.co.uk'];
    const rp = { name: 'Related origins', id: RP_ID, origins: [ORIGIN], relatedOrigins: origins };
    app.use(createPasskeyRouter({ passgate: makePassgate({ rp }), prefix: '/api/passkeys' }));
    const server = await listen(app);
    try {
      const answer = await new ContractClient(server.url).request('GET', '/.well-known/webauthn');
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
      expect(answer.body).toEqual({ origins });
    } finally {
      await server.close();
    }
  });

  it('is not served otherwise', async () => {
    const app = express();
    app.use(createPasskeyRouter({ passgate: makePassgate() }));
    const server = await listen(app);
    try {
      expect((await new ContractClient(server.url).request('GET', '/.well-known/webauthn')).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});

describe('passkeyErrorHandler', () => {
  it('gives PassgateErrors their contract body, anything else a bare 500 internal_error', async () => {
    const app = express();
    app.use(session({ secret: SESSION_SECRET, resave: false, saveUninitialized: false }));
    app.use(createPasskeyRouter({ passgate: makePassgate() }));
    app.get('/gone', () => {
      throw new PassgateError('not_found');
    });
    app.get('/field', () => {
      throw new PassgateError('invalid_request', 'email is invalid', { field: 'email' });
    });
    app.get('/limited', () => {
      throw new PassgateError('rate_limited', undefined, { retryAfterSeconds: 42 });
    });
    app.get('/async', async () => {
      throw new Error('database password is hunter2');
    });
    app.use(passkeyErrorHandler());
    const server = await listen(app);
    try {
      const client = new ContractClient(server.url);
      const gone = await client.request('GET', '/gone');
      expect(gone.status).toBe(404);
      expect(gone.body).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
      const field = await client.request('GET', '/field');
      expect(field.status).toBe(400);
      expect(field.body).toEqual({
        error: { code: 'invalid_request', message: 'email is invalid', field: 'email' },
      });
      const limited = await client.request('GET', '/limited');
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('42');
      const crashed = await client.request('GET', '/async');
      expect(crashed.status).toBe(500);
      expect(crashed.body).toEqual({ error: { code: 'internal_error', message: expect.any(String) } });
      expect(crashed.text).not.toContain('hunter2');
      expect(crashed.headers.get('cache-control')).toBe('no-store');
    } finally {
      await server.close();
    }
  });
});
