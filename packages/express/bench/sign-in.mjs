/**
 * HTTP-level sign-in benchmark of `@passgate/express` (see README.md). For each store variant it
 * starts the app in a child process (`server.mjs`), signs up one user with the software
 * authenticator, pre-generates N sign-in ceremonies (`POST /passkeys/login/options`, keeping each
 * ceremony cookie; assertion signed ahead of time), then fires the N `POST /passkeys/login/verify`
 * with bounded concurrency over keep-alive connections, and finally times `login/options` alone.
 *
 * Uses the BUILT packages: `pnpm build` (or `turbo run bench`, which builds first).
 *
 * Env: BENCH_N (2000 per variant), BENCH_CONCURRENCY (16), BENCH_VARIANTS (memory,redis,postgres,mixed),
 * BENCH_PROFILE=<dir> (server CPU profiles into <dir>: `verify-<variant>-<pid>.cpuprofile` for each timed
 * verify phase only, and `CPU.*.cpuprofile` from `node --cpu-prof` for the server's whole life).
 */
import { fork } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import http from 'node:http';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SoftwareAuthenticator } from '@passgate/testing';

const N = positiveInt('BENCH_N', 2000);
const CONCURRENCY = positiveInt('BENCH_CONCURRENCY', 16);
const WARMUP = Math.min(200, Math.ceil(N / 10));
const VARIANTS = (process.env.BENCH_VARIANTS ?? 'memory,redis,postgres,mixed').split(',').filter(Boolean);
const PROFILE_DIR = process.env.BENCH_PROFILE ? resolve(process.env.BENCH_PROFILE) : undefined;
const VARIANT_TIMEOUT_MS = 5 * 60_000;
const SERVER = fileURLToPath(new URL('./server.mjs', import.meta.url));
const PREFIX = '/passkeys';
const CEREMONY_COOKIE = 'passgate_ceremony';

function positiveInt(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}

/** Loopback-only HTTP client on a keep-alive agent (at most CONCURRENCY sockets). */
function client(baseUrl, origin) {
  const url = new URL(baseUrl);
  if (url.hostname !== '127.0.0.1') throw new Error('loopback only');
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  function post(path, json, cookie) {
    const body = Buffer.from(JSON.stringify(json));
    const headers = {
      'content-type': 'application/json',
      'content-length': body.length,
      accept: 'application/json',
      origin,
    };
    if (cookie) headers.cookie = cookie;
    return new Promise((done, fail) => {
      const req = http.request(
        { host: url.hostname, port: url.port, method: 'POST', path: PREFIX + path, headers, agent },
        (res) => {
          const chunks = [];
          res.on('data', (chunk) => chunks.push(chunk));
          res.on('end', () =>
            done({
              status: res.statusCode,
              headers: res.headers,
              text: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          res.on('error', fail);
        },
      );
      req.on('error', fail);
      req.end(body);
    });
  }
  return { post, close: () => agent.destroy() };
}

function ceremonyCookie(answer) {
  for (const line of answer.headers['set-cookie'] ?? []) {
    const pair = line.split(';', 1)[0];
    if (pair.startsWith(`${CEREMONY_COOKIE}=`)) return pair;
  }
  throw new Error(
    `no ${CEREMONY_COOKIE} cookie in the answer (${answer.status} ${answer.text.slice(0, 200)})`,
  );
}

function expect200(what, answer) {
  if (answer.status !== 200) throw new Error(`${what}: ${answer.status} ${answer.text.slice(0, 300)}`);
  return JSON.parse(answer.text);
}

/** Runs `task(i)` for i in [0, count) with at most `limit` in flight. */
async function pool(count, limit, task) {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
}

/** Fires `count` requests made by `send(i)`, CONCURRENCY in flight; returns rate and latencies. */
async function measure(count, send, ok) {
  const latencies = new Float64Array(count);
  let failures = 0;
  let firstFailure;
  const started = process.hrtime.bigint();
  await pool(count, CONCURRENCY, async (i) => {
    const t0 = process.hrtime.bigint();
    const answer = await send(i);
    latencies[i] = Number(process.hrtime.bigint() - t0) / 1e6;
    if (!ok(answer)) {
      failures += 1;
      firstFailure ??= `${answer.status} ${answer.text.slice(0, 200)}`;
    }
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort();
  const at = (q) => latencies[Math.min(count - 1, Math.ceil(q * count) - 1)];
  return { perSecond: count / seconds, p50: at(0.5), p99: at(0.99), failures, firstFailure };
}

function startServer(variant) {
  const child = fork(SERVER, [], {
    env: { ...process.env, BENCH_VARIANT: variant, BENCH_N: String(N) },
    // With BENCH_PROFILE, also `node --cpu-prof` over the server's whole life (sign-up, options, verify).
    execArgv: PROFILE_DIR
      ? [...process.execArgv, '--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`]
      : process.execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const messages = [];
  const waiters = [];
  child.on('message', (m) => {
    const i = waiters.findIndex((w) => w.type === m.type);
    if (i >= 0) waiters.splice(i, 1)[0].done(m);
    else messages.push(m);
  });
  const exited = new Promise((done) => child.on('exit', (code) => done([code])));
  const waitFor = (type, timeoutMs = 60_000) => {
    const i = messages.findIndex((m) => m.type === type);
    if (i >= 0) return Promise.resolve(messages.splice(i, 1)[0]);
    return new Promise((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`server: no ${type} within ${timeoutMs} ms`)), timeoutMs);
      const onExit = ([code]) => fail(new Error(`server exited (${code}) before ${type}`));
      exited.then(onExit);
      waiters.push({
        type,
        done: (m) => {
          clearTimeout(timer);
          done(m);
        },
      });
    });
  };
  const request = (type, extra = {}) => {
    child.send({ type, ...extra });
  };
  return { child, waitFor, request, exited };
}

async function runVariant(variant) {
  const server = startServer(variant);
  const watchdog = setTimeout(() => {
    console.error(`[bench] ${variant}: over ${VARIANT_TIMEOUT_MS / 1000} s, killing the server`);
    server.child.kill('SIGKILL');
  }, VARIANT_TIMEOUT_MS);
  let api;
  try {
    const ready = await server.waitFor('ready');
    console.log(
      `[bench] ${variant}: server in child process pid ${server.child.pid} at ${ready.url} (${ready.stores})`,
    );
    api = client(ready.url, ready.origin);
    const origin = ready.origin;

    // 1. Sign up one user (ES256; counter 0, so pre-signed assertions may finish in any order).
    const authenticator = new SoftwareAuthenticator({ algorithms: ['ES256'], counter: 'zero' });
    const reg = await api.post('/register/options', { username: `bench-${variant}-${Date.now()}` });
    const regOptions = expect200('register/options', reg);
    const credential = await authenticator.createCredential(regOptions, { origin });
    expect200('register/verify', await api.post('/register/verify', credential, ceremonyCookie(reg)));

    // 2. Pre-generate WARMUP + N sign-in ceremonies.
    const total = WARMUP + N;
    const ceremonies = new Array(total);
    const t0 = Date.now();
    await pool(total, CONCURRENCY, async (i) => {
      const started = await api.post('/login/options', {});
      const options = expect200('login/options', started);
      const assertion = await authenticator.getAssertion(options, { origin });
      ceremonies[i] = { cookie: ceremonyCookie(started), body: assertion };
    });
    console.log(`[bench] ${variant}: ${total} ceremonies prepared in ${Date.now() - t0} ms`);

    // 3. Verify: warm-up (not counted), then N timed.
    const verified = (answer) => answer.status === 200 && JSON.parse(answer.text).verified === true;
    const verify = (c) => api.post('/login/verify', c.body, c.cookie);
    const warm = await measure(WARMUP, (i) => verify(ceremonies[i]), verified);
    if (warm.failures > 0) throw new Error(`warm-up verify failed: ${warm.firstFailure}`);
    if (PROFILE_DIR) {
      server.request('profile-start');
      await server.waitFor('profile-started');
    }
    const signIn = await measure(N, (i) => verify(ceremonies[WARMUP + i]), verified);
    if (PROFILE_DIR) {
      server.request('profile-stop', { dir: PROFILE_DIR });
      const { file } = await server.waitFor('profile-written');
      console.log(`[bench] ${variant}: verify-phase CPU profile: ${file}`);
    }

    // 4. The options endpoint alone.
    const options = await measure(
      N,
      () => api.post('/login/options', {}),
      (answer) => answer.status === 200,
    );
    return { variant, signIn, options };
  } finally {
    api?.close();
    if (server.child.exitCode === null) {
      server.request('stop');
      // Cleanup (Redis keys, Postgres schema) runs before `stopped`; then the child exits by itself
      // (after writing its --cpu-prof profile, if any). Killed only if it hangs.
      const timeout = new Promise((done) => setTimeout(done, 30_000).unref());
      await Promise.race([server.exited, timeout]);
      if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
    }
    clearTimeout(watchdog);
  }
}

function formatTable(rows) {
  const header = [
    'stores',
    'verify/s',
    'verify p50 ms',
    'verify p99 ms',
    'verify non-200',
    'options/s',
    'options p50 ms',
    'options p99 ms',
    'options non-200',
  ];
  const lines = rows.map((r) =>
    r.error
      ? [r.variant, `FAILED: ${r.error}`]
      : [
          r.variant,
          r.signIn.perSecond.toFixed(0),
          r.signIn.p50.toFixed(2),
          r.signIn.p99.toFixed(2),
          String(r.signIn.failures),
          r.options.perSecond.toFixed(0),
          r.options.p50.toFixed(2),
          r.options.p99.toFixed(2),
          String(r.options.failures),
        ],
  );
  const widths = header.map((h, i) =>
    Math.max(h.length, ...lines.map((l) => (l.length > 2 ? (l[i] ?? '').length : 0))),
  );
  const row = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [row(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(row)].join('\n');
}

async function main() {
  if (PROFILE_DIR) mkdirSync(PROFILE_DIR, { recursive: true });
  console.log(
    `[bench] HTTP sign-in: N=${N} per variant (+${WARMUP} warm-up), ${CONCURRENCY} in flight, keep-alive, ` +
      `server in a child process, load generator in this one (pid ${process.pid}); Node ${process.version}`,
  );
  const rows = [];
  for (const variant of VARIANTS) {
    try {
      rows.push(await runVariant(variant));
    } catch (error) {
      console.error(`[bench] ${variant}: ${error?.stack ?? error}`);
      rows.push({ variant, error: String(error?.message ?? error).slice(0, 120) });
    }
  }
  console.log(`\n${formatTable(rows)}`);
  const bad = rows.some((r) => r.error || r.signIn.failures > 0 || r.options.failures > 0);
  if (bad) {
    for (const r of rows) {
      if (r.signIn?.firstFailure)
        console.error(`[bench] ${r.variant} verify: first failure ${r.signIn.firstFailure}`);
      if (r.options?.firstFailure)
        console.error(`[bench] ${r.variant} options: first failure ${r.options.firstFailure}`);
    }
    process.exitCode = 1;
  }
}

await main();
