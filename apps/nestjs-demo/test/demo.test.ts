import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SoftwareAuthenticator } from '@passgate/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DemoConfigError, loadDemoConfig, type RunningDemo, startDemo } from '../src/index.js';

let demo: RunningDemo;
beforeAll(async () => {
  const config = loadDemoConfig(
    { PORT: '0', SESSION_SECRET: 'nestjs-demo-test-secret-not-for-production', PASSGATE_STORE: 'memory' },
    { warn: () => {} },
  );
  demo = await startDemo(config, { host: '127.0.0.1', log: () => {}, nestLogLevels: false });
});
afterAll(() => demo?.close());

/** fetch against 127.0.0.1 as a browser on the demo's origin (http://localhost:<port>). */
function browser() {
  const jar = new Map<string, string>();
  return async (path: string, init: { method?: string; body?: unknown; accept?: string } = {}) => {
    const headers: Record<string, string> = { origin: demo.url, accept: init.accept ?? 'application/json' };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    if (jar.size) headers['cookie'] = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(`http://127.0.0.1:${demo.port}${path}`, {
      method: init.method ?? 'GET',
      headers,
      redirect: 'manual',
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
    for (const cookie of res.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const [name = '', value = ''] = pair.split('=');
      if (!value || /Expires=Thu, 01 Jan 1970/i.test(cookie)) jar.delete(name);
      else jar.set(name, value);
    }
    const text = await res.text();
    let body: any = text;
    try {
      body = JSON.parse(text);
    } catch {}
    return { status: res.status, headers: res.headers, body, cookies: res.headers.getSetCookie() };
  };
}

describe('the NestJS demo', () => {
  it('serves the shared page with its security headers, the browser library and health', async () => {
    const get = browser();
    const home = await get('/', { accept: 'text/html' });
    expect(home.status).toBe(200);
    expect(home.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(home.headers.get('content-security-policy')).toContain("script-src 'self' 'sha256-");
    expect(home.headers.get('x-powered-by')).toBeNull();
    expect((await get('/app.js')).status).toBe(200);
    expect((await get('/vendor/simplewebauthn-browser/index.js')).status).toBe(200);
    expect((await get('/healthz')).body).toEqual({ ok: true, store: 'memory' });
    const missing = await get('/nope');
    expect(missing.status).toBe(404);
    expect(missing.body).toBe('Not found');
  });

  it('signs up through /passkeys, opens /account and /api/me, and logs out', async () => {
    const call = browser();
    expect((await call('/account', { accept: 'text/html' })).status).toBe(303);
    const unauth = await call('/api/me');
    expect(unauth.status).toBe(401);
    expect(unauth.body.error.code).toBe('unauthenticated');

    const options = await call('/passkeys/register/options', {
      method: 'POST',
      body: { username: 'nest-demo' },
    });
    expect(options.status).toBe(200);
    const response = await new SoftwareAuthenticator().createCredential(options.body, { origin: demo.url });
    const verify = await call('/passkeys/register/verify', { method: 'POST', body: response });
    expect(verify.status).toBe(200);
    expect(verify.cookies.some((c) => c.startsWith('passgate_demo.sid='))).toBe(true);

    expect((await call('/account', { accept: 'text/html' })).status).toBe(200);
    expect((await call('/api/me')).body).toEqual(verify.body.user);

    const logout = await call('/passkeys/logout', { method: 'POST' });
    expect(logout.status).toBe(204);
    expect(logout.cookies.some((c) => c.startsWith('passgate_demo.sid=;'))).toBe(true);
    expect((await call('/api/me')).status).toBe(401);
  });

  it('refuses a bad environment value, naming the variable', () => {
    expect(() => loadDemoConfig({ PASSGATE_USER_VERIFICATION: 'sometimes' }, { warn: () => {} })).toThrow(
      DemoConfigError,
    );
  });
});

describe('node dist/main.js', () => {
  const run = promisify(execFile);
  const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));

  it('stops at start with a message naming a bad variable', async () => {
    const failed = await run(process.execPath, [main], {
      env: { ...process.env, PORT: '0', PASSGATE_SIGNUP: 'maybe' },
    }).catch((error: { code: number; stderr: string }) => error);
    expect((failed as { code: number }).code).toBe(1);
    expect((failed as { stderr: string }).stderr).toContain('PASSGATE_SIGNUP');
  });
});
