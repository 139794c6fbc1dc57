import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContractClient } from '../src/contract/index.js';

/** Echoes what reached it: method, path and Origin; sets a cookie so the jar has something to copy. */
let server: Server;
let url: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.setHeader('set-cookie', 'seen=1; Path=/');
    res.end(JSON.stringify({ method: req.method, path: req.url, origin: req.headers.origin ?? null }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('ContractClient options', () => {
  it('defaults to the suite origin on non-GET requests and the /passkeys prefix', async () => {
    const client = new ContractClient(url);
    expect(client.origin).toBe('https://app.example.test');
    expect((await client.post('/login/options', {})).body).toEqual({
      method: 'POST',
      path: '/passkeys/login/options',
      origin: 'https://app.example.test',
    });
    expect((await client.get('/session')).body).toEqual({
      method: 'GET',
      path: '/passkeys/session',
      origin: null,
    });
  });

  it('sends the given origin, puts the given prefix in front, and a fork keeps both', async () => {
    const client = new ContractClient(url, { origin: 'http://localhost:3000', prefix: '/api/passkeys' });
    expect((await client.patch('/credentials/abc', { nickname: 'x' })).body).toEqual({
      method: 'PATCH',
      path: '/api/passkeys/credentials/abc',
      origin: 'http://localhost:3000',
    });
    // `request` takes the whole path (the app's own routes).
    expect((await client.request('POST', '/app/echo', { json: {} })).body.path).toBe('/app/echo');
    const tab = client.fork();
    expect(tab.cookie('seen')).toBe('1');
    expect((await tab.delete('/credentials/abc')).body).toEqual({
      method: 'DELETE',
      path: '/api/passkeys/credentials/abc',
      origin: 'http://localhost:3000',
    });
    // A request's own origin still wins.
    expect((await client.post('/logout', undefined, { origin: 'https://evil.example' })).body.origin).toBe(
      'https://evil.example',
    );
  });
});
