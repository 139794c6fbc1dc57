import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DemoBackendOptions, RunningDemo } from '@passgate/demo-server';
import { loadDemoConfig, removeDemoData } from '@passgate/demo-server';
import { SoftwareAuthenticator } from '@passgate/testing';
import { ContractClient } from '@passgate/testing/contract';
import type { Express } from 'express';
import { afterAll, describe, expect, it } from 'vitest';
import { hashPassword, startExistingUsersDemo, verifyPassword } from '../src/index.js';

const quiet = { warn: () => {} };
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const tablePrefix = `eu_${randomBytes(4).toString('hex')}_`;
const redisPrefix = `passgate-eu-test-${randomBytes(4).toString('hex')}:`;

const running: RunningDemo<Express>[] = [];
afterAll(async () => {
  await Promise.all(running.map((demo) => demo.close()));
  // Leave nothing behind in the shared services: this file's own keys and tables only.
  await removeDemoData({ redisUrl: REDIS_URL, redisPrefix, databaseUrl: DATABASE_URL, tablePrefix });
});

async function start(env: Record<string, string> = {}, options: DemoBackendOptions = {}) {
  const config = loadDemoConfig(
    { PORT: '0', SESSION_SECRET: 'existing-users-test-session-secret', ...env },
    quiet,
  );
  const demo = await startExistingUsersDemo(config, { log: () => {}, host: '127.0.0.1', ...options });
  running.push(demo);
  return demo;
}

/** A browser on the demo's origin: a cookie jar, and `Origin` on every state-changing request. */
function browser(demo: RunningDemo<Express>) {
  const client = new ContractClient(demo.url);
  const origin = demo.url;
  return {
    client,
    api: (method: string, path: string, json?: unknown) =>
      client.request(method, `/api${path}`, { ...(json !== undefined ? { json } : {}), origin }),
    post: (path: string, json?: unknown) => client.post(path, json, { origin }),
    delete: (path: string) => client.delete(path, { origin }),
    get: (path: string) => client.get(path),
  };
}

const email = () => `ada-${randomBytes(4).toString('hex')}@example.com`;

describe('passwords (node:crypto scrypt)', () => {
  it('verifies the right password only; salts differ; an unknown user costs a check and is false', async () => {
    const one = await hashPassword('correct horse battery');
    const two = await hashPassword('correct horse battery');
    expect(one).toMatch(/^scrypt\$8192\$8\$10\$[\w-]{22}\$[\w-]{43}$/);
    expect(one).not.toBe(two);
    expect(await verifyPassword('correct horse battery', one)).toBe(true);
    expect(await verifyPassword('correct horse batterz', one)).toBe(false);
    expect(await verifyPassword('correct horse battery', null)).toBe(false);
    expect(await verifyPassword('x', 'bcrypt$whatever')).toBe(false);
  });
});

describe('start-up and configuration', () => {
  it('serves its own page with the CSP, its script, and the shared page files and clients', async () => {
    const demo = await start();
    const home = await fetch(`${demo.url}/`);
    expect(home.status).toBe(200);
    const html = await home.text();
    expect(html).toContain('autocomplete="username webauthn"');
    // Its own page in the demos' shared layout: its title, script and body state.
    expect(html).toContain('<title>Acme Notes: an app with passwords, now with passkeys</title>');
    expect(html).toContain('<script type="module" src="/existing-users.js"></script>');
    expect(html).toContain('<body data-view="loading" data-autofill="off" data-upgrade="off">');
    expect(home.headers.get('content-security-policy')).toMatch(/script-src 'self' 'sha256-/);
    for (const path of [
      '/existing-users.js',
      '/passkey-ui.js',
      '/style.css',
      '/vendor/passgate-browser/index.js',
    ]) {
      expect((await fetch(`${demo.url}${path}`)).status, path).toBe(200);
    }
    // The demos' shared tail: health, then 404 for the rest.
    expect(await (await fetch(`${demo.url}/healthz`)).json()).toEqual({ ok: true, store: 'memory' });
    expect((await fetch(`${demo.url}/nope`)).status).toBe(404);
    // Signed out, the account page sends the browser home.
    const account = await fetch(`${demo.url}/account`, { redirect: 'manual' });
    expect(account.status).toBe(303);
    expect(account.headers.get('location')).toBe('/');
  });

  it("Passgate's own sign-up is off: accounts are made with a password", async () => {
    const b = browser(await start());
    const answer = await b.post('/register/options', { username: email() });
    expect(answer.status).toBe(401);
    expect(answer.body.error.code).toBe('unauthenticated');
  });

  it('the built app stops at start with exit code 1 and names the bad variable', () => {
    expect(existsSync(main), `${main} is missing: build the demo first (pnpm build)`).toBe(true);
    const result = spawnSync(process.execPath, [main], {
      env: { ...process.env, PORT: '0', PASSGATE_STORE: 'mongodb' },
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('PASSGATE_STORE');
  });

  it('a foreign Origin on the password routes is 403; bad input is 400 naming the field', async () => {
    const demo = await start();
    const b = browser(demo);
    const foreign = await b.client.request('POST', '/api/sign-in', {
      json: { email: email(), password: 'whatever-123' },
      origin: 'https://evil.example',
    });
    expect(foreign.status).toBe(403);
    const short = await b.api('POST', '/sign-up', { email: email(), password: 'short' });
    expect(short.status).toBe(400);
    expect(short.body.error.field).toBe('password');
    const bad = await b.api('POST', '/sign-up', { email: 'not-an-email', password: 'long-enough-1' });
    expect(bad.body.error.field).toBe('email');
  });
});

/**
 * The whole story over HTTP with the software authenticator, on each store kind: password sign-up,
 * password sign-in, a passkey added through `identify`, passkey sign-in as the same user, and the
 * passkey's deletion (from another browser) ending the session made with it.
 */
function describeStory(store: 'memory' | 'redis' | 'postgres', options: DemoBackendOptions = {}) {
  describe(`PASSGATE_STORE=${store}`, () => {
    it('password user → passkey → passkey sign-in as the same user → deleting it ends that session', async () => {
      const demo = await start({ PASSGATE_STORE: store, REDIS_URL, DATABASE_URL }, options);
      const address = email();
      const password = 'correct horse battery staple';

      const first = browser(demo);
      const signedUp = await first.api('POST', '/sign-up', { email: address, password, displayName: 'Ada' });
      expect(signedUp.status, signedUp.text).toBe(201);
      const userId = signedUp.body.user.id;
      // The same email again: taken, however it is typed.
      const again = await browser(demo).api('POST', '/sign-up', { email: address.toUpperCase(), password });
      expect(again.status).toBe(409);

      // A password sign-in (wrong password first), in another browser.
      const tab = browser(demo);
      expect((await tab.api('POST', '/sign-in', { email: address, password: 'wrong password' })).status).toBe(
        401,
      );
      const signedIn = await tab.api('POST', '/sign-in', { email: ` ${address.toUpperCase()} `, password });
      expect(signedIn.status, signedIn.text).toBe(200);
      expect(signedIn.body.user.id).toBe(userId);
      const session = await tab.get('/session');
      expect(session.body).toMatchObject({
        user: { id: userId, name: address, displayName: 'Ada' },
        credentialId: null,
      });

      // The passkey, for the password-signed-in user (Passgate learns who through identify).
      const authenticator = new SoftwareAuthenticator();
      const creation = await tab.post('/register/options', {});
      expect(creation.status, creation.text).toBe(200);
      expect(creation.body.user.name).toBe(address);
      expect(Buffer.from(creation.body.user.id, 'base64url').toString()).not.toContain(userId);
      const created = await tab.post(
        '/register/verify',
        await authenticator.createCredential(creation.body, { origin: demo.url }),
      );
      expect(created.status, created.text).toBe(200);
      const credentialId = created.body.credential.id;

      // Sign out, then the passkey signs the same user in: passport's session, the same id.
      expect((await tab.post('/logout')).status).toBe(204);
      expect((await tab.api('GET', '/me')).status).toBe(401);
      const passkeyUser = browser(demo);
      const login = await passkeyUser.post('/login/options', {});
      expect(login.status, login.text).toBe(200);
      const verified = await passkeyUser.post(
        '/login/verify',
        await authenticator.getAssertion(login.body, { origin: demo.url }),
      );
      expect(verified.status, verified.text).toBe(200);
      expect(verified.body.user.id).toBe(userId);
      const me = await passkeyUser.api('GET', '/me');
      expect(me.status).toBe(200);
      expect(me.body).toEqual({
        user: { id: userId, email: address, displayName: 'Ada' },
        signedInWith: 'passkey',
      });

      // The password browser deletes the passkey: the session made with it ends; the password one stays.
      const deleted = await first.delete(`/credentials/${credentialId}`);
      expect(deleted.status, deleted.text).toBe(200);
      expect((await passkeyUser.api('GET', '/me')).status).toBe(401);
      expect((await passkeyUser.get('/session')).status).toBe(401);
      expect((await first.api('GET', '/me')).status).toBe(200);
    });
  });
}

describeStory('memory');
describeStory('redis', { redisPrefix });
describeStory('postgres', { postgresTablePrefix: tablePrefix });
