/**
 * Related origins in a real browser: the Express demo for the RP ID `example.com`, reached by Chromium
 * under two host names (`--host-resolver-rules` maps them to 127.0.0.1) over TLS. A page on
 * `https://shop.example.net` asks for passkeys of `example.com`; Chromium then fetches
 * `https://example.com/.well-known/webauthn` itself (a related origin request) and goes on only if the
 * page's origin is listed there. Headless Chromium does perform that request: the test sees it arrive.
 *
 * WebAuthn needs https here (plain http is a secure context only on localhost, and the browser fetches
 * the well-known over https on port 443), so a TLS front with a throwaway self-signed certificate sits
 * before the demo; Chromium trusts it through `--ignore-certificate-errors-spki-list` (which, unlike
 * `--ignore-certificate-errors`, leaves the page without a certificate error, as WebAuthn requires),
 * and port 443 of `example.com` is mapped to the front's port.
 */
import { execFileSync } from 'node:child_process';
import { createHash, createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDemoConfig, type RunningDemo, startDemo } from '@passgate/express-demo';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBrowser } from './browser.js';

/**
 * A same-origin page that runs no script: the demo's own page starts an autofill sign-in on load,
 * whose ceremony cookie would replace the one of the ceremony under test.
 */
const QUIET_PAGE = '/passkeys/session';

interface TlsFront {
  port: number;
  /** `host path` of every request that reached the front. */
  seen: string[];
  target: { port: number } | undefined;
  server: Server;
}

/** A self-signed certificate for the two sites, made with openssl for this run only. */
function makeCertificate(): { key: Buffer; cert: Buffer; spki: string } {
  const dir = mkdtempSync(join(tmpdir(), 'passgate-related-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=passgate-e2e',
        '-addext',
        'subjectAltName=DNS:example.com,DNS:shop.example.net',
      ],
      { stdio: 'ignore' },
    );
    const key = readFileSync(join(dir, 'key.pem'));
    const cert = readFileSync(join(dir, 'cert.pem'));
    const der = createPublicKey(cert).export({ type: 'spki', format: 'der' });
    return { key, cert, spki: createHash('sha256').update(der).digest('base64') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** TLS in front of the demo: forwards every request to it unchanged (Host and Origin included). */
async function startFront(tls: { key: Buffer; cert: Buffer }): Promise<TlsFront> {
  const front: TlsFront = { port: 0, seen: [], target: undefined, server: undefined as never };
  front.server = createServer(tls, (req, res) => {
    front.seen.push(`${req.headers.host} ${req.url}`);
    const upstream = httpRequest(
      {
        host: '127.0.0.1',
        port: front.target?.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => front.server.listen(0, '127.0.0.1', resolve));
  front.port = (front.server.address() as AddressInfo).port;
  return front;
}

/** Sign-up then sign-in from the current page, with the browser's own JSON helpers; returns the statuses. */
async function signUpAndIn(page: import('playwright-core').Page) {
  return page.evaluate(async () => {
    const post = async (path: string, body: unknown) => {
      const answer = await fetch(`/passkeys${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: answer.status, body: await answer.json().catch(() => null) };
    };
    const steps: string[] = [];
    const created = await post('/register/options', { username: `related-${Date.now()}` });
    steps.push(`register/options ${created.status} ${created.body?.error?.code ?? ''}`.trim());
    if (created.status !== 200) return steps;
    try {
      const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(created.body);
      const credential = (await navigator.credentials.create({ publicKey })) as PublicKeyCredential;
      const verified = await post('/register/verify', credential.toJSON());
      steps.push(`register/verify ${verified.status} ${verified.body?.error?.code ?? ''}`.trim());
      const login = await post('/login/options', {});
      const request = PublicKeyCredential.parseRequestOptionsFromJSON(login.body);
      const assertion = (await navigator.credentials.get({ publicKey: request })) as PublicKeyCredential;
      const signedIn = await post('/login/verify', assertion.toJSON());
      steps.push(`login/verify ${signedIn.status} ${signedIn.body?.error?.code ?? ''}`.trim());
    } catch (error) {
      steps.push(`browser ${(error as Error).name}`);
    }
    return steps;
  });
}

describe('related origins in Chromium: the demo under two host names', () => {
  let tls: ReturnType<typeof makeCertificate>;
  const running: { front?: TlsFront; demo?: RunningDemo } = {};

  beforeAll(() => {
    tls = makeCertificate();
  });
  afterAll(async () => {
    await running.demo?.close();
    running.front?.server.closeAllConnections();
    running.front?.server.close();
  });

  async function start(relatedOrigins: boolean) {
    await running.demo?.close();
    running.front?.server.closeAllConnections();
    running.front?.server.close();
    const front = await startFront(tls);
    const shop = `https://shop.example.net:${front.port}`;
    const config = loadDemoConfig(
      {
        PORT: '0',
        RP_ID: 'example.com',
        ORIGIN: `https://example.com:${front.port}`,
        SESSION_SECRET: 'e2e-session-secret-not-for-production',
        ...(relatedOrigins ? { PASSGATE_RELATED_ORIGINS: shop } : {}),
      },
      { warn: () => {} },
    );
    const demo = await startDemo(config, { log: () => {}, host: '127.0.0.1' });
    front.target = { port: demo.port };
    Object.assign(running, { front, demo });
    const browser = await openBrowser([
      // Every name to the front; the well-known's https://example.com (port 443) to the front's port.
      `--host-resolver-rules=MAP example.com:443 127.0.0.1:${front.port}, MAP *.example.net 127.0.0.1, MAP example.com 127.0.0.1`,
      `--ignore-certificate-errors-spki-list=${tls.spki}`,
    ]);
    await browser.addAuthenticator();
    return { browser, front, shop };
  }

  it('configured: a page on the second site signs up and in, after Chromium fetched the well-known', async () => {
    const { browser, front, shop } = await start(true);
    try {
      await browser.page.goto(`${shop}${QUIET_PAGE}`);
      expect(await browser.page.evaluate(() => window.isSecureContext)).toBe(true);
      expect(await signUpAndIn(browser.page)).toEqual([
        'register/options 200',
        'register/verify 200',
        'login/verify 200',
      ]);
      // The related origin request: made by the browser, to the RP ID's host at the site root.
      expect(front.seen).toContain('example.com /.well-known/webauthn');
    } finally {
      await browser.close();
    }
  });

  it('not configured: the same page is refused (403 forbidden_origin) and nothing is created', async () => {
    const { browser, front, shop } = await start(false);
    try {
      await browser.page.goto(`${shop}${QUIET_PAGE}`);
      expect(await signUpAndIn(browser.page)).toEqual(['register/options 403 forbidden_origin']);
      expect(browser.events).toEqual([]);
      // The RP's own origin still works on the same demo.
      await browser.page.goto(`https://example.com:${front.port}${QUIET_PAGE}`);
      expect(await signUpAndIn(browser.page)).toEqual([
        'register/options 200',
        'register/verify 200',
        'login/verify 200',
      ]);
    } finally {
      await browser.close();
    }
  });
});
