import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SoftwareAuthenticator } from '../authenticator/index.js';
import {
  type Answer,
  CEREMONY_COOKIE,
  ContractClient,
  findSetCookie,
  ORIGIN,
  RP_ID,
} from '../contract/client.js';
import { CHILD_ENV } from './types.js';

/** The child entry, compiled next to this module (`dist/processes/child.js`). */
const CHILD = new URL('./child.js', import.meta.url);
const SECRET = 'passgate-shared-store-processes-secret-0123456789';

export interface SharedStoreProcessesOptions {
  /**
   * The ESM module each child imports: an absolute path or a `file:` URL (e.g.
   * `new URL('./fixtures/stores.mjs', import.meta.url)`). It must export
   * `createStores(env): Promise<{ stores: PassgateStores; close(): Promise<void> }>` (see
   * {@link SharedStoresModule}). Children run plain Node, so it must be JavaScript (or import only
   * built code), not TypeScript.
   */
  storesModule: string | URL;
  /** Extra environment for both children, passed to `createStores` (with the rest of `process.env`). */
  env?: Record<string, string>;
  /**
   * Runs once before the children start (create the schema, connect a client for the checks…); a
   * returned promise is awaited.
   */
  setup?: () => unknown;
  /**
   * Runs once after both children have exited, even when `setup` or a child start failed (drop the
   * schema, delete the keys, close the client); a returned promise is awaited. Must tolerate a
   * partial `setup`.
   */
  teardown?: () => unknown;
  /**
   * Called after a sign-up started on A was finished on B, with the new credential's ID: assert, by
   * looking at the backend directly, that it was stored once where both processes read it. Look for
   * that ID: the other tests sign up accounts of their own, before or after this one.
   */
  expectCredentialStored?: (credentialId: string) => unknown;
  /**
   * How long a child may take to print its port (default 60 000 ms). Generous on purpose: a child
   * imports the whole stack, which takes seconds on a loaded CI machine; a healthy start needs ~1 s.
   */
  startTimeoutMs?: number;
}

interface Instance {
  child: ChildProcess;
  client: ContractClient;
}

interface Reply {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON shapes.
  body: any;
  /** The ceremony cookie as a `Cookie` request header, when the response set one. */
  cookie: string | undefined;
}

function storesModuleUrl(storesModule: string | URL): URL {
  if (storesModule instanceof URL) return storesModule;
  if (storesModule.startsWith('file:')) return new URL(storesModule);
  if (isAbsolute(storesModule)) return pathToFileURL(storesModule);
  throw new Error(
    `storesModule must be an absolute path or a file: URL, got ${JSON.stringify(storesModule)}`,
  );
}

function startInstance(env: NodeJS.ProcessEnv, timeoutMs: number, started: Instance[]): Promise<Instance> {
  const child = spawn(process.execPath, [fileURLToPath(CHILD)], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  // Tracked from the spawn on, so that afterAll stops it even when it never starts listening.
  const instance: Instance = { child, client: new ContractClient('http://127.0.0.1') };
  started.push(instance);
  let err = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    if (err.length < 8_000) err += chunk.toString('utf8');
  });
  // A closed stdin is how the child is told to stop: never let a late write crash the parent.
  child.stdin?.on('error', () => {});
  return new Promise((resolve, reject) => {
    let out = '';
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(
        new Error(`shared-store child ${why}; stdout: ${out || '(empty)'}; stderr: ${err || '(empty)'}`),
      );
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(`did not print its port within ${timeoutMs} ms`);
    }, timeoutMs);
    child.once('error', (error) => fail(`could not be spawned (${error.message})`));
    child.once('exit', (code, signal) => fail(`exited before listening (code ${code}, signal ${signal})`));
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const newline = out.indexOf('\n');
      if (newline < 0) return;
      clearTimeout(timer);
      try {
        const { port } = JSON.parse(out.slice(0, newline)) as { port: number };
        instance.client = new ContractClient(`http://127.0.0.1:${port}`);
        resolve(instance);
      } catch {
        fail('printed something other than {"port":…}');
      }
    });
  });
}

/** Closes the child's stdin (it exits), then SIGTERM after 5 s and SIGKILL after 10 s if it has not. */
async function stopInstance(instance: Instance): Promise<void> {
  const { child } = instance;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdin?.end();
  const term = setTimeout(() => child.kill('SIGTERM'), 5_000);
  const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(term);
  clearTimeout(kill);
}

async function post(instance: Instance, path: string, json: unknown, cookie?: string): Promise<Reply> {
  // An explicit Cookie header ('' for none): the client's jar is neither used nor updated.
  const answer: Answer = await instance.client.post(path, json, { cookie: cookie ?? '' });
  const set = findSetCookie(answer, CEREMONY_COOKIE);
  return {
    status: answer.status,
    body: answer.body,
    cookie: set && !set.expired && set.value !== '' ? `${set.name}=${set.value}` : undefined,
  };
}

/**
 * Two OS processes ("two instances of the app") sharing one store, as a vitest suite for storage
 * adapters. It spawns two Node children, each importing `storesModule`, building a Passgate on the
 * stores it returns (the same RP ID, origin and secret in both) and serving the HTTP contract over
 * `node:http`; then checks, over real HTTP, that:
 *
 * - a sign-up started on A finishes on B (and the ceremony is then gone for A too);
 * - a sign-in started on B finishes on A;
 * - of 20 concurrent verifies of one sign-in ceremony, split 10/10 across A and B, exactly one
 *   succeeds and the other nineteen fail with `ceremony_expired` (single-use across processes).
 *
 * Give the children a backend of their own per run (a fresh schema, a random key prefix) through
 * `env`, create it in `setup` and remove it in `teardown`. Children exit when their stdin closes, so
 * they do not outlive a crashed test run.
 *
 * @example
 * // test/fixtures/stores.mjs
 * import pg from 'pg';
 * import { createMyStores } from '../../dist/index.js';
 * export async function createStores(env) {
 *   const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 20 });
 *   await pool.query('SELECT 1');
 *   return { stores: createMyStores({ pool, schema: env.SCHEMA }), close: () => pool.end() };
 * }
 *
 * // test/two-processes.test.ts
 * describeSharedStoreAcrossProcesses('my adapter', {
 *   storesModule: new URL('./fixtures/stores.mjs', import.meta.url),
 *   env: { DATABASE_URL, SCHEMA: schema },
 *   setup: () => migrate({ pool, schema }),
 *   teardown: () => dropSchema(pool, schema),
 * });
 */
export function describeSharedStoreAcrossProcesses(name: string, options: SharedStoreProcessesOptions): void {
  describe(`two processes sharing one store: ${name}`, () => {
    const startTimeoutMs = options.startTimeoutMs ?? 60_000;
    const instances: Instance[] = [];
    let a: Instance;
    let b: Instance;

    /**
     * A new account with one passkey, signed up on `instance` alone: each sign-in test starts from its
     * own, so that none of them depends on the sign-up test having run first (or at all).
     */
    async function signedUpOn(instance: Instance) {
      const authenticator = new SoftwareAuthenticator();
      const username = `bob-${randomBytes(6).toString('hex')}`;
      const begun = await post(instance, '/register/options', { username, displayName: 'Bob' });
      expect(begun.status).toBe(200);
      const credential = await authenticator.createCredential(begun.body, { origin: ORIGIN });
      const verify = await post(instance, '/register/verify', credential, begun.cookie);
      expect(verify.status).toBe(200);
      return { authenticator, username, userId: verify.body.user.id as string };
    }

    beforeAll(async () => {
      if (!existsSync(CHILD)) {
        throw new Error(`${fileURLToPath(CHILD)} missing: build @passgate/testing first (\`pnpm build\`)`);
      }
      const storesUrl = storesModuleUrl(options.storesModule);
      if (!existsSync(storesUrl)) throw new Error(`storesModule ${fileURLToPath(storesUrl)} does not exist`);
      await options.setup?.();
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        ...options.env,
        [CHILD_ENV.storesModule]: storesUrl.href,
        [CHILD_ENV.rpId]: RP_ID,
        [CHILD_ENV.origin]: ORIGIN,
        [CHILD_ENV.secret]: SECRET,
      };
      [a, b] = await Promise.all([
        startInstance(env, startTimeoutMs, instances),
        startInstance(env, startTimeoutMs, instances),
      ]);
    }, startTimeoutMs + 15_000);

    afterAll(async () => {
      try {
        await Promise.all(instances.map(stopInstance));
      } finally {
        await options.teardown?.();
      }
    }, 30_000);

    it('runs the two instances as two OS processes', () => {
      expect(a.child.pid).toBeGreaterThan(0);
      expect(b.child.pid).toBeGreaterThan(0);
      expect(a.child.pid).not.toBe(b.child.pid);
      expect(a.child.pid).not.toBe(process.pid);
    });

    it('finishes on B a sign-up started on A', async () => {
      const authenticator = new SoftwareAuthenticator();
      const username = `alice-${randomBytes(6).toString('hex')}`;
      const begun = await post(a, '/register/options', { username, displayName: 'Alice' });
      expect(begun.status).toBe(200);
      expect(begun.cookie).toBeDefined();
      const credential = await authenticator.createCredential(begun.body, { origin: ORIGIN });
      const verify = await post(b, '/register/verify', credential, begun.cookie);
      expect(verify.status).toBe(200);
      expect(verify.body).toMatchObject({
        verified: true,
        user: { name: username },
        credential: { id: credential.id },
      });
      // Stored once, where both instances read it.
      await options.expectCredentialStored?.(credential.id);
      // The ceremony is gone for A too.
      const replay = await post(a, '/register/verify', credential, begun.cookie);
      expect(replay.status).toBe(400);
      expect(replay.body.error.code).toBe('ceremony_expired');
    });

    it('finishes on A a sign-in started on B', async () => {
      const { authenticator, username, userId } = await signedUpOn(b);
      const started = await post(b, '/login/options', { username });
      expect(started.status).toBe(200);
      expect(started.body.allowCredentials).toHaveLength(1);
      const assertion = await authenticator.getAssertion(started.body, { origin: ORIGIN });
      const verify = await post(a, '/login/verify', assertion, started.cookie);
      expect(verify.status).toBe(200);
      expect(verify.body).toMatchObject({ verified: true, user: { id: userId, name: username } });
    });

    it('accepts one of 20 concurrent verifies of one ceremony, split across both processes', async () => {
      const { authenticator, userId } = await signedUpOn(a);
      const started = await post(a, '/login/options', {});
      expect(started.status).toBe(200);
      const assertion = await authenticator.getAssertion(started.body, { origin: ORIGIN });
      const replies = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          post(i % 2 === 0 ? a : b, '/login/verify', assertion, started.cookie),
        ),
      );
      const ok = replies.filter((r) => r.status === 200);
      const expired = replies.filter((r) => r.status === 400 && r.body?.error?.code === 'ceremony_expired');
      expect(ok).toHaveLength(1);
      expect(ok[0]!.body).toMatchObject({ verified: true, user: { id: userId } });
      expect(expired).toHaveLength(19);
    });
  });
}
