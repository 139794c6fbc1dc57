import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SoftwareAuthenticator } from '@passgate/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { DemoConfigError, loadDemoConfig, type RunningDemo, startDemo } from '../src/index.js';
import { CookieJar, call, cleanUpSharedStores, ORIGIN } from './demo-http.js';

const quiet = { warn: () => {} };
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

describe('environment parsing', () => {
  it('reads PASSGATE_RELATED_ORIGINS as a comma-separated list, names the bad entry, and serves it', async () => {
    const related = 'https://shop.example.co.uk, https://example-login.com,';
    const config = loadDemoConfig({ PORT: '0', PASSGATE_RELATED_ORIGINS: related }, quiet);
    expect(config.relatedOrigins).toEqual(['https://shop.example.co.uk', 'https://example-login.com']);
    expect(loadDemoConfig({}, quiet).relatedOrigins).toEqual([]);
    expect(() =>
      loadDemoConfig({ PASSGATE_RELATED_ORIGINS: 'https://ok.com,https://10.0.0.1' }, quiet),
    ).toThrow(/^PASSGATE_RELATED_ORIGINS: "https:\/\/10\.0\.0\.1" has no registrable domain/);
    const demo = await startDemo(config, { log: () => {}, host: '127.0.0.1' });
    try {
      const res = await fetch(`http://127.0.0.1:${demo.port}/.well-known/webauthn`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ origins: config.relatedOrigins });
    } finally {
      await demo.close();
    }
  });

  it('applies the contract defaults', () => {
    const warnings: string[] = [];
    const config = loadDemoConfig({}, { warn: (m) => warnings.push(m) });
    expect(config).toMatchObject({
      port: 3000,
      rpId: 'localhost',
      origin: 'http://localhost:3000',
      store: 'memory',
      redisUrl: 'redis://127.0.0.1:6379',
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/test',
      signUp: true,
      sessionSecretGenerated: true,
    });
    expect(config.passgateSecret).toHaveLength(32);
    expect(warnings.join('\n')).toMatch(/SESSION_SECRET/);
    // The warning names the variable, never a value.
    expect(warnings.join('\n')).not.toContain(config.sessionSecret);
  });

  it('reads every variable', () => {
    const config = loadDemoConfig(
      {
        PORT: '8080',
        RP_ID: 'example.com',
        ORIGIN: 'https://app.example.com',
        SESSION_SECRET: 'a-long-enough-session-secret',
        PASSGATE_STORE: 'postgres',
        REDIS_URL: 'redis://cache:6379/2',
        DATABASE_URL: 'postgresql://app@db/app',
        PASSGATE_CHALLENGE_TTL_SECONDS: '120',
        PASSGATE_USER_VERIFICATION: 'required',
        PASSGATE_RATE_LIMIT_POINTS: '30',
        PASSGATE_RATE_LIMIT_DURATION_SECONDS: '10',
        PASSGATE_ACCOUNT_FAILURE_POINTS: '5',
        PASSGATE_SIGNUP: 'off',
        PASSGATE_REAUTH_SECONDS: '60',
      },
      quiet,
    );
    expect(config).toMatchObject({
      port: 8080,
      rpId: 'example.com',
      origin: 'https://app.example.com',
      store: 'postgres',
      challengeTtlSeconds: 120,
      userVerification: 'required',
      perIp: { points: 30, durationSeconds: 10 },
      accountFailures: { points: 5, durationSeconds: 900 },
      signUp: false,
      reauthenticationWindowSeconds: 60,
      sessionSecretGenerated: false,
    });
    // The Passgate secret is derived from the session secret: stable across instances.
    expect(loadDemoConfig({ SESSION_SECRET: 'a-long-enough-session-secret' }, quiet).passgateSecret).toEqual(
      config.passgateSecret,
    );
  });

  it('leaves the origin open with PORT=0 until the server listens', () => {
    expect(loadDemoConfig({ PORT: '0' }, quiet).origin).toBeUndefined();
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['RP_ID', 'https://example.com'],
    ['ORIGIN', 'not a url'],
    ['ORIGIN', 'ftp://localhost'],
    ['ORIGIN', 'http://localhost:3000/app'],
    ['SESSION_SECRET', 'short'],
    ['PASSGATE_STORE', 'mongodb'],
    ['REDIS_URL', 'http://127.0.0.1:6379'],
    ['DATABASE_URL', 'mysql://db'],
    ['PASSGATE_CHALLENGE_TTL_SECONDS', '0'],
    ['PASSGATE_CHALLENGE_TTL_SECONDS', '1.5'],
    ['PASSGATE_USER_VERIFICATION', 'always'],
    ['PASSGATE_RATE_LIMIT_POINTS', 'many'],
    ['PASSGATE_RATE_LIMIT_DURATION_SECONDS', '0'],
    ['PASSGATE_ACCOUNT_FAILURE_POINTS', '-3'],
    ['PASSGATE_SIGNUP', 'yes'],
    ['PASSGATE_REAUTH_SECONDS', '5m'],
    ['PASSGATE_RESIDENT_KEY', 'maybe'],
    ['PASSGATE_RELATED_ORIGINS', 'http://example.co.uk'],
    ['PASSGATE_RELATED_ORIGINS', 'https://example.com/login'],
    [
      'PASSGATE_RELATED_ORIGINS',
      'https://a.com,https://b.com,https://c.com,https://d.com,https://e.com,https://f.com',
    ],
  ])('rejects %s=%s naming the variable', (variable, value) => {
    let error: unknown;
    try {
      loadDemoConfig({ [variable]: value }, quiet);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DemoConfigError);
    expect((error as DemoConfigError).variable).toBe(variable);
    expect((error as Error).message).toContain(variable);
  });

  it('rejects an ORIGIN outside RP_ID, and a missing ORIGIN for another RP_ID', () => {
    expect(() => loadDemoConfig({ RP_ID: 'example.com', ORIGIN: 'https://evil.test' }, quiet)).toThrow(
      /ORIGIN/,
    );
    expect(() => loadDemoConfig({ RP_ID: 'example.com' }, quiet)).toThrow(/ORIGIN/);
  });

  const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
  // Runs the built app: `pnpm test` builds first (turbo's test task depends on build).
  it('the built app stops at start with exit code 1 and names the variable', () => {
    expect(existsSync(main), `${main} is missing: build the demo first (pnpm build)`).toBe(true);
    const result = spawnSync(process.execPath, [main], {
      env: { ...process.env, PORT: '3001', PASSGATE_USER_VERIFICATION: 'sometimes' },
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('PASSGATE_USER_VERIFICATION');
  });
});

// ---------------------------------------------------------------------------------------------------
// Two in-process demos sharing Redis or PostgreSQL behave as one app behind a load balancer.

function describeSharedStore(store: 'redis' | 'postgres', isolation: () => Record<string, string>) {
  describe(`PASSGATE_STORE=${store}: two instances sharing it`, () => {
    const demos: RunningDemo[] = [];
    afterAll(async () => {
      await Promise.all(demos.map((d) => d.close()));
    });

    it('starts, and a ceremony started on one instance finishes on the other', async () => {
      const env = {
        PORT: '0',
        ORIGIN,
        SESSION_SECRET: `shared-secret-${store}-0123456789`,
        PASSGATE_STORE: store,
        REDIS_URL,
        DATABASE_URL,
      };
      const options = { log: () => {}, host: '127.0.0.1', ...isolation() };
      const a = await startDemo(loadDemoConfig(env, quiet), options);
      demos.push(a);
      const b = await startDemo(loadDemoConfig(env, quiet), options);
      demos.push(b);
      expect(a.url).toBe(ORIGIN);

      const authenticator = new SoftwareAuthenticator();
      const jar = new CookieJar();
      const username = `shared-${randomBytes(4).toString('hex')}`;

      // Sign-up: options on A, verify on B.
      const regOptions = await call(a, jar, 'POST', '/passkeys/register/options', { username });
      expect(regOptions.status).toBe(200);
      const registration = await authenticator.createCredential(regOptions.body, { origin: ORIGIN });
      const registered = await call(b, jar, 'POST', '/passkeys/register/verify', registration);
      expect(registered.status).toBe(200);
      expect(registered.body.user.name).toBe(username);

      // The session written by B is read by A.
      const session = await call(a, jar, 'GET', '/passkeys/session');
      expect(session.status).toBe(200);
      expect(session.body.user.name).toBe(username);
      expect((await call(a, jar, 'GET', '/api/me')).body.name).toBe(username);

      // Sign out on A: B no longer knows the session either.
      expect((await call(a, jar, 'POST', '/passkeys/logout')).status).toBe(204);
      expect((await call(b, jar, 'GET', '/passkeys/session')).status).toBe(401);

      // Sign-in: options on B, verify on A; the ceremony is then used up on both.
      const loginOptions = await call(b, jar, 'POST', '/passkeys/login/options', {});
      expect(loginOptions.status).toBe(200);
      const ceremonyCookie = jar.header();
      const assertion = await authenticator.getAssertion(loginOptions.body, { origin: ORIGIN });
      const signedIn = await call(a, jar, 'POST', '/passkeys/login/verify', assertion);
      expect(signedIn.status).toBe(200);
      expect(signedIn.body.user.name).toBe(username);
      const replayJar = new CookieJar();
      for (const part of ceremonyCookie.split('; ')) {
        const [n = '', v = ''] = part.split('=');
        replayJar.cookies.set(n, v);
      }
      const replay = await call(b, replayJar, 'POST', '/passkeys/login/verify', assertion);
      expect(replay.status).toBe(400);
      expect(replay.body.error.code).toBe('ceremony_expired');

      // Both instances list the same passkey, with the sign-in recorded.
      const listed = await call(b, jar, 'GET', '/passkeys/credentials');
      expect(listed.status).toBe(200);
      expect(listed.body.credentials).toHaveLength(1);
      expect(listed.body.credentials[0].lastUsedAt).not.toBeNull();
    });
  });
}

const tablePrefix = `demo_${randomBytes(4).toString('hex')}_`;
const redisPrefix = `passgate-demo-test-${randomBytes(4).toString('hex')}:`;

describeSharedStore('redis', () => ({ redisPrefix }));
describeSharedStore('postgres', () => ({ postgresTablePrefix: tablePrefix }));

afterAll(async () => {
  // Leave nothing behind in the shared services.
  await cleanUpSharedStores({ redis: REDIS_URL, postgres: DATABASE_URL }, redisPrefix, tablePrefix);
});
