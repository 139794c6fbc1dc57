import { request } from 'node:http';
import express from 'express';
import session from 'express-session';
import { describe, expect, it } from 'vitest';
import { createPasskeyRouter, passkeyErrorHandler } from '../src/index.js';
import { ContractClient, listen, makePassgate, ORIGIN, SESSION_SECRET, signIn, signUp } from './helpers.js';

describe('body handling', () => {
  it('a host app with a global express.json() before the router still works end to end', async () => {
    const app = express();
    app.use(express.json());
    app.use(session({ secret: SESSION_SECRET, resave: false, saveUninitialized: false }));
    app.use(createPasskeyRouter({ passgate: makePassgate() }));
    app.use(passkeyErrorHandler());
    const server = await listen(app);
    try {
      const client = new ContractClient(server.url);
      const { authenticator, status } = await signUp(client);
      expect(status).toBe(200);
      expect((await signIn(client, authenticator)).status).toBe(200);
      const renamed = await client.patch(`/credentials/${authenticator.credentials[0]?.id}`, {
        nickname: 'Laptop',
      });
      expect(renamed.status).toBe(200);
      // Schema errors are still the contract's.
      const bad = await client.post('/login/options', { username: '' });
      expect(bad.status).toBe(400);
      expect(bad.body.error).toMatchObject({ code: 'invalid_request', field: 'username' });
      // The host parser rejects invalid JSON first; passkeyErrorHandler gives it the contract's body.
      const broken = await client.post('/login/options', undefined, {
        body: '{',
        contentType: 'application/json',
      });
      expect(broken.status).toBe(400);
      expect(broken.body).toEqual({
        error: { code: 'invalid_request', message: expect.any(String), field: '$' },
      });
      // Size is still checked from Content-Length (the host parser's own limit is 100 kB).
      const big = await client.post('/login/options', { username: 'x'.repeat(70_000) });
      expect(big.status).toBe(413);
      expect(big.body.error.code).toBe('payload_too_large');
      // A chunked body (no Content-Length) that the host parser read is measured after the fact.
      const chunked = await postChunked(`${server.url}/passkeys/login/options`, {
        username: 'x',
        pad: 'y'.repeat(80_000),
      });
      expect(chunked.status).toBe(413);
      expect(JSON.parse(chunked.text).error.code).toBe('payload_too_large');
      // Origin still checked first.
      const foreign = await client.post('/login/options', {}, { origin: 'https://evil.example.test' });
      expect(foreign.body.error.code).toBe('forbidden_origin');
    } finally {
      await server.close();
    }
  });

  it('the router does not change how other routes parse bodies', async () => {
    const app = express();
    app.use(session({ secret: SESSION_SECRET, resave: false, saveUninitialized: false }));
    app.use(createPasskeyRouter({ passgate: makePassgate() }));
    app.post('/raw', (req, res) => {
      // No parser here: the stream is untouched and req.body unset.
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
      });
      req.on('end', () => {
        res.json({ body: req.body === undefined ? 'undefined' : req.body, size });
      });
    });
    app.post('/text', express.text({ limit: '2mb' }), (req, res) => {
      res.json({ length: (req.body as string).length });
    });
    app.post('/json', express.json(), (req, res) => {
      res.json({ got: req.body });
    });
    const server = await listen(app);
    try {
      const client = new ContractClient(server.url);
      const raw = await client.request('POST', '/raw', {
        body: 'x'.repeat(100_000),
        contentType: 'text/plain',
      });
      expect(raw.body).toEqual({ body: 'undefined', size: 100_000 });
      // A 1 MB text body: the passkey router's 64 KiB limit and JSON-only rule do not apply here.
      const text = await client.request('POST', '/text', {
        body: 'y'.repeat(1_000_000),
        contentType: 'text/plain',
      });
      expect(text.body).toEqual({ length: 1_000_000 });
      const json = await client.request('POST', '/json', {
        json: { a: 1 },
        origin: 'https://elsewhere.example',
      });
      expect(json.body).toEqual({ got: { a: 1 } });
      // And the passkey routes read their own bodies.
      expect((await signUp(client)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

/** POSTs JSON with `Transfer-Encoding: chunked` (no Content-Length), as streaming clients do. */
function postChunked(url: string, json: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json', origin: ORIGIN } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    const payload = JSON.stringify(json);
    for (let i = 0; i < payload.length; i += 16_384) req.write(payload.slice(i, i + 16_384));
    req.end();
  });
}
