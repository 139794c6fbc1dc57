import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SoftwareAuthenticator } from '@passgate/testing';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/index.js';
import { DATABASE_URL, dropSchema, newPool, randomSchema } from './helpers.js';

// Two OS processes (two "instances of the app") share one PostgreSQL schema: a ceremony started on one
// finishes on the other, and a ceremony is consumed once across both. The children import the BUILT
// adapter (`dist/`), as an application would.

const ORIGIN = 'https://app.example.com';
const RP_ID = 'app.example.com';
const SECRET = 'passgate-two-process-test-secret-0123456789';
const COOKIE = 'passgate_ceremony';
const FIXTURE = fileURLToPath(new URL('./fixtures/contract-server.mjs', import.meta.url));
const BUILT = [
  new URL('../dist/index.js', import.meta.url),
  new URL('../node_modules/@passgate/core/dist/http/index.js', import.meta.url),
];

interface Instance {
  child: ChildProcess;
  base: string;
}

function startInstance(env: Record<string, string>): Promise<Instance> {
  const child = spawn(process.execPath, [FIXTURE], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`fixture did not print its port within 15 s; stdout: ${out}`));
    }, 15_000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`fixture exited before listening (code ${code}, signal ${signal}); stdout: ${out}`));
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) {
        clearTimeout(timer);
        const { port } = JSON.parse(line) as { port: number };
        resolve({ child, base: `http://127.0.0.1:${port}/passkeys` });
      }
    });
  });
}

async function stopInstance(instance: Instance | undefined): Promise<void> {
  if (!instance || instance.child.exitCode !== null || instance.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => instance.child.once('exit', () => resolve()));
  instance.child.kill('SIGTERM');
  const timer = setTimeout(() => instance.child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

interface Reply {
  status: number;
  body: any;
  /** The ceremony cookie as a `Cookie` request header, when the response set one. */
  cookie: string | undefined;
}

async function post(instance: Instance, path: string, body: unknown, cookie?: string): Promise<Reply> {
  const response = await fetch(`${instance.base}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      origin: ORIGIN,
      ...(cookie !== undefined ? { cookie } : {}),
    },
    body: JSON.stringify(body),
  });
  const set = response.headers.getSetCookie().find((c) => c.startsWith(`${COOKIE}=`));
  const value = set?.slice(0, set.indexOf(';'));
  return {
    status: response.status,
    body: await response.json(),
    cookie: value && value !== `${COOKIE}=` ? value : undefined,
  };
}

describe('two processes sharing one PostgreSQL schema', () => {
  const schema = randomSchema('2proc');
  let pool: pg.Pool;
  let a: Instance | undefined;
  let b: Instance | undefined;
  const authenticator = new SoftwareAuthenticator();
  const username = `alice-${schema}`;
  let userId: string;

  beforeAll(async () => {
    const missing = BUILT.filter((url) => !existsSync(url)).map((url) => fileURLToPath(url));
    if (missing.length > 0) {
      throw new Error(
        `${missing.join(', ')} missing: the child processes import the built packages; run \`pnpm build\` (or \`pnpm --filter @passgate/postgres... build\`) first`,
      );
    }
    pool = newPool();
    await migrate({ pool, schema });
    const env = {
      PASSGATE_TEST_DATABASE_URL: DATABASE_URL,
      PASSGATE_SCHEMA: schema,
      PASSGATE_RP_ID: RP_ID,
      PASSGATE_ORIGIN: ORIGIN,
      PASSGATE_SECRET: SECRET,
    };
    [a, b] = await Promise.all([startInstance(env), startInstance(env)]);
  }, 30_000);

  afterAll(async () => {
    await Promise.all([stopInstance(a), stopInstance(b)]);
    if (pool) {
      await dropSchema(pool, schema);
      await pool.end();
    }
  }, 30_000);

  it('runs the two instances as two OS processes', () => {
    expect(a!.child.pid).toBeGreaterThan(0);
    expect(b!.child.pid).toBeGreaterThan(0);
    expect(a!.child.pid).not.toBe(b!.child.pid);
    expect(a!.child.pid).not.toBe(process.pid);
  });

  it('finishes on B a sign-up started on A', async () => {
    const options = await post(a!, '/register/options', { username, displayName: 'Alice' });
    expect(options.status).toBe(200);
    expect(options.cookie).toBeDefined();
    const credential = await authenticator.createCredential(options.body, { origin: ORIGIN });
    const verify = await post(b!, '/register/verify', credential, options.cookie);
    expect(verify.status).toBe(200);
    expect(verify.body).toMatchObject({
      verified: true,
      user: { name: username },
      credential: { id: credential.id },
    });
    userId = verify.body.user.id;
    // Stored once, where both instances read it.
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM "${schema}".passgate_credentials`);
    expect(rows[0].n).toBe(1);
    // The ceremony is gone for A too.
    const replay = await post(a!, '/register/verify', credential, options.cookie);
    expect(replay.status).toBe(400);
    expect(replay.body.error.code).toBe('ceremony_expired');
  });

  it('finishes on A a sign-in started on B', async () => {
    const options = await post(b!, '/login/options', { username });
    expect(options.status).toBe(200);
    expect(options.body.allowCredentials).toHaveLength(1);
    const assertion = await authenticator.getAssertion(options.body, { origin: ORIGIN });
    const verify = await post(a!, '/login/verify', assertion, options.cookie);
    expect(verify.status).toBe(200);
    expect(verify.body).toMatchObject({ verified: true, user: { id: userId, name: username } });
  });

  it('accepts one of 20 concurrent verifies of one ceremony, split across both processes', async () => {
    const options = await post(a!, '/login/options', {});
    expect(options.status).toBe(200);
    const assertion = await authenticator.getAssertion(options.body, { origin: ORIGIN });
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        post(i % 2 === 0 ? a! : b!, '/login/verify', assertion, options.cookie),
      ),
    );
    const ok = replies.filter((r) => r.status === 200);
    const expired = replies.filter((r) => r.status === 400 && r.body.error?.code === 'ceremony_expired');
    expect(ok).toHaveLength(1);
    expect(ok[0]!.body).toMatchObject({ verified: true, user: { id: userId } });
    expect(expired).toHaveLength(19);
  });
});
