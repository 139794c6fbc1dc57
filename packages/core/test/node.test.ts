import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassgateError } from '@passgate/core';
import {
  CONTRACT_PATH_TEMPLATES,
  endsInContractPath,
  isContractPath,
  locateContractPath,
  locatePrefix,
} from '@passgate/core/http';
import {
  contractErrorResponse,
  expressSessionAdapter,
  requestPath,
  toContractRequest,
  writeContractResponse,
} from '@passgate/core/node';
import { afterEach, describe, expect, it } from 'vitest';

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;
const servers: ReturnType<typeof createServer>[] = [];

/** A real node:http server on an ephemeral port running `handler`. */
async function serve(handler: Handler): Promise<string> {
  const server = createServer((req, res) => {
    Promise.resolve(handler(req, res)).catch((error: unknown) => {
      res.statusCode = 599;
      res.end(String(error));
    });
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

describe('the contract paths (one list, from the route table)', () => {
  it('knows every path of the contract below the prefix, with or without a trailing slash', () => {
    for (const path of [
      '/register/options',
      '/register/verify',
      '/login/options',
      '/login/verify/',
      '/session',
      '/logout',
      '/credentials',
      '/credentials/AbC-_x',
    ]) {
      expect(isContractPath(path), path).toBe(true);
    }
  });

  it('refuses paths that only look like the contract', () => {
    for (const path of [
      '/',
      '/register',
      '/login/options/x',
      '/credentials/a/b',
      '/sessions',
      '/passkeys/session',
    ]) {
      expect(isContractPath(path), path).toBe(false);
    }
  });

  it('finds the mount behind a global prefix', () => {
    expect(locatePrefix('/passkeys', '/api/passkeys/login/options')).toEqual({
      mount: '/api/passkeys',
      below: '/login/options',
    });
    expect(locatePrefix('/passkeys', '/passkeysX/login/options')).toBeUndefined();
    expect(locatePrefix('/', '/session')).toEqual({ mount: '/', below: '/session' });
  });

  it('finds the mount behind a global prefix that holds the prefix too', () => {
    expect(locatePrefix('/passkeys', '/passkeys/passkeys/login/options')).toEqual({
      mount: '/passkeys/passkeys',
      below: '/login/options',
    });
    expect(locatePrefix('/passkeys', '/api/passkeys/passkeys/credentials/passkeys')).toEqual({
      mount: '/api/passkeys/passkeys',
      below: '/credentials/passkeys',
    });
    expect(locatePrefix('/a/a', '/a/a/a/session')).toEqual({ mount: '/a/a/a', below: '/session' });
    // No contract path below any of them: the first place, as with the prefix once.
    expect(locatePrefix('/passkeys', '/passkeys/passkeys/nope')).toEqual({
      mount: '/passkeys',
      below: '/passkeys/nope',
    });
  });

  it('lists every path of the contract as a route template', () => {
    const filled = CONTRACT_PATH_TEMPLATES.map((template) => template.replace(':id', 'AbC-_x'));
    expect(filled.every(isContractPath)).toBe(true);
    expect(new Set(filled)).toEqual(
      new Set([
        '/register/options',
        '/register/verify',
        '/login/options',
        '/login/verify',
        '/session',
        '/logout',
        '/credentials',
        '/credentials/AbC-_x',
      ]),
    );
  });

  it('finds the root mount from the contract path a framework routed to, not from the path alone', () => {
    expect(locateContractPath('/login/options', '/api/login/options')).toEqual({
      mount: '/api',
      below: '/login/options',
    });
    expect(locateContractPath('/session', '/session/')).toEqual({ mount: '/', below: '/session/' });
    // The same path is either route, at either mount: the route decides.
    expect(locateContractPath('/credentials/:id', '/api/credentials/session')).toEqual({
      mount: '/api',
      below: '/credentials/session',
    });
    expect(locateContractPath('/session', '/api/credentials/session')).toEqual({
      mount: '/api/credentials',
      below: '/session',
    });
    expect(locateContractPath('/session', '/api/sessionX')).toBeUndefined();
    expect(locateContractPath('/login/options', '/api/LOGIN/options')).toBeUndefined();
    expect(locateContractPath('/nope', '/nope')).toBeUndefined();
  });

  it('tells which full paths may be the root prefix behind an unknown global prefix', () => {
    for (const path of ['/login/options', '/api/login/options/', '/v1/api/credentials/%ZZ']) {
      expect(endsInContractPath(path), path).toBe(true);
    }
    for (const path of ['/', '/account', '/api/loginX', '/api/login/options/x', '/files/%ZZ']) {
      expect(endsInContractPath(path), path).toBe(false);
    }
  });

  it('strips the query and fragment from a request URL', () => {
    expect(requestPath('/passkeys/session?x=1')).toBe('/passkeys/session');
    expect(requestPath('/a#b')).toBe('/a');
    expect(requestPath(undefined)).toBe('/');
  });
});

describe('a Node request and response', () => {
  it('writes the contract response and keeps the Set-Cookie values set before it', async () => {
    const url = await serve((_req, res) => {
      res.setHeader('set-cookie', 'session=1; Path=/');
      writeContractResponse(res, {
        status: 201,
        headers: { 'cache-control': 'no-store', 'content-type': 'application/json; charset=utf-8' },
        cookies: ['a=1; Path=/passkeys', 'b=2; Path=/passkeys'],
        body: { ok: 'é' },
      });
    });
    const response = await fetch(url);
    expect(response.status).toBe(201);
    expect(response.headers.getSetCookie()).toEqual([
      'session=1; Path=/',
      'a=1; Path=/passkeys',
      'b=2; Path=/passkeys',
    ]);
    expect(response.headers.get('content-length')).toBe(String(Buffer.byteLength('{"ok":"é"}')));
    expect(await response.json()).toEqual({ ok: 'é' });
  });

  it('reads the body from the stream, bounded, and takes the protocol from the socket by default', async () => {
    const seen: unknown[] = [];
    const url = await serve(async (req, res) => {
      const request = toContractRequest(req, '/login/options', null, { ip: '203.0.113.9' });
      seen.push(request.protocol, request.ip, request.path);
      if (request.body.kind !== 'stream') throw new Error('expected a stream body');
      try {
        const bytes = await request.body.read(8);
        res.end(`read ${bytes.length}`);
      } catch (error) {
        writeContractResponse(res, contractErrorResponse(error));
      }
    });
    expect(await (await fetch(url, { method: 'POST', body: '{"a":1}' })).text()).toBe('read 7');
    const tooLarge = await fetch(url, { method: 'POST', body: '{"a":12345}' });
    expect(tooLarge.status).toBe(413);
    expect(((await tooLarge.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
    expect(seen.slice(0, 3)).toEqual(['http', '203.0.113.9', '/login/options']);
  });

  it("maps body-parser errors to the contract's codes and hides anything else", () => {
    expect(contractErrorResponse({ type: 'entity.too.large' }).status).toBe(413);
    expect(contractErrorResponse({ type: 'entity.parse.failed' }).body).toMatchObject({
      error: { code: 'invalid_request' },
    });
    expect(contractErrorResponse(new PassgateError('not_found')).status).toBe(404);
    const hidden = contractErrorResponse(new Error('secret detail'));
    expect(hidden.status).toBe(500);
    expect(JSON.stringify(hidden.body)).not.toContain('secret detail');
  });

  it("ends an express-session sign-in with the cookie Express's res.clearCookie writes", async () => {
    const destroyed: string[] = [];
    const sessions = expressSessionAdapter<IncomingMessage>('sid');
    const url = await serve(async (req, res) => {
      Object.assign(req, {
        session: {
          cookie: { path: '/', httpOnly: true, secure: false },
          regenerate: (cb: () => void) => cb(),
          save: (cb: () => void) => cb(),
          destroy: (cb: () => void) => {
            destroyed.push('destroyed');
            cb();
          },
        },
      });
      await sessions.signOut(req, res);
      res.end();
    });
    const response = await fetch(url);
    expect(destroyed).toEqual(['destroyed']);
    expect(response.headers.getSetCookie()).toEqual([
      'sid=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly',
    ]);
  });
});
