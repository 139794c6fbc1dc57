/**
 * `pnpm bench`: sign-in ceremonies per second of the Passgate demos against the hand-rolled baseline
 * (README.md in this folder). Every target runs in its own child process pinned to one core; this
 * load client is pinned to another. Rounds are interleaved (each round measures every target once),
 * so drifting background load spreads over all of them.
 *
 * Env: BENCH_SECONDS (4, measured seconds per target per round), BENCH_WARMUP_SECONDS (1, before
 * every round), BENCH_FIRST_WARMUP_SECONDS (5, once per server after it starts),
 * BENCH_ROUNDS (3), BENCH_USERS (10 concurrent users), BENCH_TARGETS (comma list of
 * baseline, tunedbaseline, express-memory, express-redis, express-postgres, nestjs-memory, nestjs-redis,
 * nestjs-postgres; default all), BENCH_OUT (folder for sign-in.json and sign-in.svg; default
 * docs/performance at the repository root), BENCH_NOTE (a line about the machine's load, printed and
 * kept in the JSON and the chart), BENCH_CPU_PROF (a folder for each server's CPU profile),
 * BENCH_SERVER_FLAGS (Node.js options for every server process, e.g. `--trace-gc`, to diagnose; added
 * after the options a target runs with, see nodeOptionsOf).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { SoftwareAuthenticator } from '@passgate/testing';
import { drawChart } from './chart.mjs';
import { loopLateness } from './loop-delay.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const SECONDS = positive('BENCH_SECONDS', 4);
const WARMUP_SECONDS = positive('BENCH_WARMUP_SECONDS', 1);
// A fresh process runs its first seconds of load in V8's interpreter and baseline code and optimises
// as it goes: measured here, the first second after a 1 s warm-up had a p99 of 90 ms and the next
// 43 ms, against about 20 ms from the third on. A sign-in storm meets a server that has been running,
// so every server (baseline included) gets this much load once before its first round.
const FIRST_WARMUP_SECONDS = positive('BENCH_FIRST_WARMUP_SECONDS', 5);
const ROUNDS = positive('BENCH_ROUNDS', 3);
const USERS = positive('BENCH_USERS', 10);
const ALL_TARGETS = [
  'baseline',
  // The same hand-rolled server made as expressServerOptions makes the demos' (see server.mjs):
  // how much of the demos' lead is Passgate's own, not the Express server setup any app could copy.
  'tunedbaseline',
  'express-memory',
  'express-redis',
  'express-postgres',
  'nestjs-memory',
  'nestjs-redis',
  'nestjs-postgres',
];
const TARGETS = (process.env.BENCH_TARGETS ?? ALL_TARGETS.join(',')).split(',').filter(Boolean);
const OUT = resolve(process.env.BENCH_OUT ?? join(HERE, '..', '..', 'docs', 'performance'));
const NOTE = process.env.BENCH_NOTE ?? '';
const SERVER_FLAGS = (process.env.BENCH_SERVER_FLAGS ?? '').split(' ').filter(Boolean);

function positive(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}

/** Cores for the server and for this client: separate ones when there are at least two and taskset exists. */
function placement() {
  const cores = os.availableParallelism();
  let taskset = false;
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    taskset = true;
  } catch {}
  if (!taskset || cores < 2) return { pinned: false, serverCore: null, clientCore: null, cores };
  // Every thread of this process (libuv's pool included) onto core 0; servers go to the last core.
  execFileSync('taskset', ['-a', '-pc', '0', String(process.pid)], { stdio: 'ignore' });
  return { pinned: true, serverCore: cores - 1, clientCore: 0, cores };
}

/**
 * The Node.js options each target runs with. The demos: those of their `start` script (what
 * `pnpm demo` runs; `node <options> dist/main.js`), so the bench measures them as they ship.
 * `tunedbaseline`: the Express demo's, since it stands for the hand-rolled server set up as the demos
 * are. `baseline`: none, as SimpleWebAuthn's docs run it.
 */
function nodeOptionsOf(target) {
  const demo = target === 'tunedbaseline' ? 'express' : target;
  if (demo !== 'express' && demo !== 'nestjs') return [];
  const manifest = JSON.parse(readFileSync(join(HERE, '..', `${demo}-demo`, 'package.json'), 'utf8'));
  const start = manifest.scripts?.start ?? '';
  const match = /^node((?: --[\w-]+(?:=\S+)?)*) dist\/main\.js$/.exec(start);
  if (!match) throw new Error(`${demo}-demo's start script is not "node [options] dist/main.js": ${start}`);
  return match[1].split(' ').filter(Boolean);
}

function startServer(name, place) {
  const [target, store = 'memory'] = name.split('-');
  // BENCH_CPU_PROF=<dir>: a V8 CPU profile of each server's whole life (node --cpu-prof), for DevTools.
  const prof = process.env.BENCH_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${resolve(process.env.BENCH_CPU_PROF)}`]
    : [];
  // BENCH_SERVER_FLAGS: Node.js options for every server alike (the baseline too), for diagnosis:
  // `--trace-gc` prints each collection into this output.
  const nodeOptions = [...nodeOptionsOf(target), ...SERVER_FLAGS];
  const args = [...nodeOptions, ...prof, join(HERE, 'server.mjs')];
  const env = { ...process.env, BENCH_TARGET: target, BENCH_STORE: store };
  const stdio = ['ignore', 'inherit', 'inherit', 'ipc'];
  const child = place.pinned
    ? spawn('taskset', ['-c', String(place.serverCore), process.execPath, ...args], { env, stdio })
    : spawn(process.execPath, args, { env, stdio });
  const waiting = new Map();
  child.on('message', (m) => {
    waiting.get(m.type)?.(m);
    waiting.delete(m.type);
  });
  const exited = new Promise((done) => child.on('exit', done));
  const ask = (type, timeoutMs = 60_000) =>
    new Promise((done, fail) => {
      const timer = setTimeout(
        () => fail(new Error(`${name}: no ${type} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      exited.then((code) => fail(new Error(`${name}: server exited (${code}) before ${type}`)));
      waiting.set(type, (m) => {
        clearTimeout(timer);
        done(m);
      });
      if (type !== 'ready') child.send({ type });
    });
  return { name, child, ask, exited, nodeOptions };
}

/**
 * Every server but the one measured is stopped (SIGSTOP) and continued (SIGCONT) for its own round.
 * All servers share one core, and an idle one is not idle: its timers fire, and about 8 s after
 * its load stops V8's memory reducer runs full collections of its heap (up to 20 ticks, 200 ms of
 * CPU, seen in /proc while another target was measured). On a shared core that time came out of
 * whichever target was being measured and landed in its p99. Stopped, a server runs nothing.
 */
const CAN_STOP = process.platform !== 'win32';
function freeze(server) {
  if (!CAN_STOP || server.child.exitCode !== null) return;
  // Its keep-alive connections go first: a stopped server's idle-socket timers fire the moment it
  // continues, and a request sent on such a socket then would meet ECONNRESET. The next round
  // opens new ones during its warm-up.
  server.api.close();
  server.child.kill('SIGSTOP');
}
function thaw(server) {
  if (!CAN_STOP || server.child.exitCode !== null) return;
  server.child.kill('SIGCONT');
  if (server.url) server.api = client(server.url, server.origin);
}

/**
 * CPU time (clock ticks) used so far by each process of the stores' servers running on this machine:
 * every process named `postgres` (backends, WAL writer, checkpointer, autovacuum) or `redis-server`,
 * read from /proc (`null` without it). On a two-core machine they share the cores with the server
 * under test and this client, so their cost per ceremony is part of what the Redis and PostgreSQL
 * targets pay here. Anything else using the databases at the same time counts too: bench on a quiet
 * machine.
 */
function storeServerTicks() {
  let entries;
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  const ticks = new Map();
  for (const pid of entries) {
    if (pid.charCodeAt(0) > 57) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    } catch {
      continue; // exited meanwhile
    }
    const close = stat.lastIndexOf(')');
    const name = stat.slice(stat.indexOf('(') + 1, close);
    if (name !== 'postgres' && name !== 'redis-server') continue;
    // After "(comm) ": state, ppid, …; utime and stime are the 12th and 13th of those (proc(5)).
    const fields = stat.slice(close + 2).split(' ');
    ticks.set(pid, Number(fields[11]) + Number(fields[12]));
  }
  return ticks;
}

/** µs of store-server CPU between two `storeServerTicks()` (a process that exited in between is lost). */
function storeServersCpuMicros(before, after) {
  if (before === null || after === null) return Number.NaN;
  let ticks = 0;
  for (const [pid, t] of after) ticks += t - (before.get(pid) ?? 0);
  return (ticks * 1e6) / CLOCK_TICKS;
}
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** A keep-alive HTTP client with one cookie jar per ceremony. */
function client(baseUrl, origin) {
  const url = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: USERS });
  function post(path, json, jar) {
    const body = Buffer.from(JSON.stringify(json));
    const headers = {
      'content-type': 'application/json',
      'content-length': body.length,
      accept: 'application/json',
      origin,
    };
    if (jar.size > 0) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    return new Promise((done, fail) => {
      const req = http.request(
        { host: url.hostname, port: url.port, method: 'POST', path, headers, agent },
        (res) => {
          for (const line of res.headers['set-cookie'] ?? []) {
            const pair = line.split(';', 1)[0];
            const eq = pair.indexOf('=');
            jar.set(pair.slice(0, eq), pair.slice(eq + 1));
          }
          const chunks = [];
          res.on('data', (chunk) => chunks.push(chunk));
          res.on('end', () => done({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', fail);
        },
      );
      req.on('error', fail);
      req.end(body);
    });
  }
  return { post, close: () => agent.destroy() };
}

function json200(what, answer) {
  if (answer.status !== 200) throw new Error(`${what}: ${answer.status} ${answer.text.slice(0, 300)}`);
  return JSON.parse(answer.text);
}

/** Signs up USERS users, each with a software authenticator of its own (ES256, counter +1 per sign-in). */
async function signUp(api, origin, name) {
  const users = [];
  for (let i = 0; i < USERS; i++) {
    const authenticator = new SoftwareAuthenticator({ algorithms: ['ES256'] });
    const jar = new Map();
    const username = `bench-${name}-${i}-${Date.now()}`;
    const options = json200(
      'register/options',
      await api.post('/passkeys/register/options', { username }, jar),
    );
    const credential = await authenticator.createCredential(options, { origin });
    json200('register/verify', await api.post('/passkeys/register/verify', credential, jar));
    users.push(authenticator);
  }
  return users;
}

/**
 * One full sign-in from a signed-out browser: options → sign → verify. `steps` gets the time of each
 * part (ms): the options round trip, the signing here, the verify round trip.
 */
async function ceremony(api, origin, authenticator, steps) {
  const jar = new Map();
  const t0 = performance.now();
  const started = await api.post('/passkeys/login/options', {}, jar);
  if (started.status !== 200)
    return { ok: false, detail: `options ${started.status} ${started.text.slice(0, 200)}` };
  const t1 = performance.now();
  const assertion = await authenticator.getAssertion(JSON.parse(started.text), { origin });
  const t2 = performance.now();
  const answer = await api.post('/passkeys/login/verify', assertion, jar);
  const t3 = performance.now();
  if (answer.status === 200 && JSON.parse(answer.text).verified === true) {
    steps.options.push(t1 - t0);
    steps.sign.push(t2 - t1);
    steps.verify.push(t3 - t2);
    return { ok: true };
  }
  return { ok: false, detail: `verify ${answer.status} ${answer.text.slice(0, 200)}` };
}

/** Every user signs in again and again for `seconds`; returns ceremony latencies (ms) and failures. */
async function load(api, origin, users, seconds) {
  const latencies = [];
  const steps = { options: [], sign: [], verify: [] };
  let failures = 0;
  let firstFailure;
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    users.map(async (authenticator) => {
      while (performance.now() < until) {
        const t0 = performance.now();
        const result = await ceremony(api, origin, authenticator, steps);
        if (result.ok) latencies.push(performance.now() - t0);
        else {
          failures += 1;
          firstFailure ??= result.detail;
        }
      }
    }),
  );
  return { latencies, steps, failures, firstFailure };
}

// This client's own pauses, which a ceremony's measured latency includes: GC and event-loop delay.
const clientGc = { count: 0, totalMs: 0, maxMs: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    clientGc.count += 1;
    clientGc.totalMs += entry.duration;
    clientGc.maxMs = Math.max(clientGc.maxMs, entry.duration);
  }
}).observe({ entryTypes: ['gc'] });
const clientLoopDelay = loopLateness();

function quantile(sorted, q) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

async function measureRound(server, api, users) {
  await load(api, server.origin, users, WARMUP_SECONDS);
  const before = await server.ask('stats');
  const clientBefore = process.cpuUsage();
  const storeServersBefore = storeServerTicks();
  const clientGcBefore = { ...clientGc };
  clientGc.maxMs = 0;
  clientLoopDelay.reset();
  const t0 = performance.now();
  const result = await load(api, server.origin, users, SECONDS);
  const elapsed = (performance.now() - t0) / 1000;
  const clientCpu = process.cpuUsage(clientBefore);
  const storeServersAfter = storeServerTicks();
  const clientLoopDelayMs = clientLoopDelay.read();
  const after = await server.ask('stats');
  const count = result.latencies.length;
  return {
    ceremonies: count,
    seconds: elapsed,
    perSecond: count / elapsed,
    latencies: result.latencies,
    steps: result.steps,
    failures: result.failures,
    firstFailure: result.firstFailure,
    serverCpuMicros: after.cpuMicros - before.cpuMicros,
    serverSystemCpuMicros: after.systemMicros - before.systemMicros,
    clientCpuMicros: clientCpu.user + clientCpu.system,
    storeServersCpuMicros: storeServersCpuMicros(storeServersBefore, storeServersAfter),
    rss: after.rss,
    redisCommands: after.storeCalls.redis - before.storeCalls.redis,
    postgresQueries: after.storeCalls.postgres - before.storeCalls.postgres,
    serverGc: {
      count: after.gc.count - before.gc.count,
      totalMs: after.gc.totalMs - before.gc.totalMs,
      maxMs: after.gc.maxMs,
      majorCount: after.gc.majorCount - before.gc.majorCount,
    },
    serverLoopDelayMs: after.loopDelayMs,
    clientGc: {
      count: clientGc.count - clientGcBefore.count,
      totalMs: clientGc.totalMs - clientGcBefore.totalMs,
      maxMs: clientGc.maxMs,
    },
    clientLoopDelayMs,
  };
}

function summarise(name, rounds) {
  const ceremonies = rounds.reduce((s, r) => s + r.ceremonies, 0);
  const seconds = rounds.reduce((s, r) => s + r.seconds, 0);
  const latencies = rounds.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const per = (key) => (ceremonies === 0 ? Number.NaN : rounds.reduce((s, r) => s + r[key], 0) / ceremonies);
  const step = (name) => rounds.flatMap((r) => r.steps[name]).sort((a, b) => a - b);
  const maxOf = (pick) => Math.max(...rounds.map(pick));
  const sumOf = (pick) => rounds.reduce((s, r) => s + pick(r), 0);
  return {
    target: name,
    ceremoniesPerSecond: ceremonies / seconds,
    roundsPerSecond: rounds.map((r) => Math.round(r.perSecond)),
    // Each round's own p99: a round in which the machine was slow (the baseline's rate shows it)
    // carries the pooled p99 above, since its ordinary ceremonies are the whole run's slowest.
    roundsP99Ms: rounds.map((r) =>
      Number(
        quantile(
          [...r.latencies].sort((a, b) => a - b),
          0.99,
        ).toFixed(1),
      ),
    ),
    ceremonies,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    serverCpuMicrosPerCeremony: per('serverCpuMicros'),
    // The kernel's share (socket reads and writes, loopback TCP): what no JavaScript change reaches.
    serverSystemCpuMicrosPerCeremony: per('serverSystemCpuMicros'),
    clientCpuMicrosPerCeremony: per('clientCpuMicros'),
    // PostgreSQL's or Redis's own processes on this machine (see storeServersCpuMicros).
    storeServersCpuMicrosPerCeremony: per('storeServersCpuMicros'),
    rssMiB: Math.max(...rounds.map((r) => r.rss)) / 2 ** 20,
    redisCommandsPerCeremony: per('redisCommands'),
    postgresQueriesPerCeremony: per('postgresQueries'),
    failures: rounds.reduce((s, r) => s + r.failures, 0),
    firstFailure: rounds.find((r) => r.firstFailure)?.firstFailure,
    // Where the tail comes from: each step's p99 as the client sees it, both sides' GC and
    // event-loop delay (the worst round's p99 and max).
    diagnostics: {
      p99Ms: {
        options: quantile(step('options'), 0.99),
        sign: quantile(step('sign'), 0.99),
        verify: quantile(step('verify'), 0.99),
      },
      server: {
        gcPauses: sumOf((r) => r.serverGc.count),
        gcMajor: sumOf((r) => r.serverGc.majorCount),
        gcMsPerCeremony: ceremonies === 0 ? Number.NaN : sumOf((r) => r.serverGc.totalMs) / ceremonies,
        gcMaxPauseMs: maxOf((r) => r.serverGc.maxMs),
        loopDelayP99Ms: maxOf((r) => r.serverLoopDelayMs.p99),
        loopDelayMaxMs: maxOf((r) => r.serverLoopDelayMs.max),
      },
      client: {
        gcMaxPauseMs: maxOf((r) => r.clientGc.maxMs),
        loopDelayP99Ms: maxOf((r) => r.clientLoopDelayMs.p99),
        loopDelayMaxMs: maxOf((r) => r.clientLoopDelayMs.max),
      },
    },
  };
}

/** The goals, each as measured / goal. */
function goals(byTarget) {
  const base = byTarget.baseline?.ceremoniesPerSecond;
  const ratio = (t) => (byTarget[t] && base ? byTarget[t].ceremoniesPerSecond / base : undefined);
  const list = [
    { goal: 'express-memory ≥ 2.0× baseline', value: ratio('express-memory'), pass: (v) => v >= 2 },
    { goal: 'express-redis ≥ 1.5× baseline', value: ratio('express-redis'), pass: (v) => v >= 1.5 },
    { goal: 'express-postgres ≥ 1.0× baseline', value: ratio('express-postgres'), pass: (v) => v >= 1 },
    { goal: 'express-memory p99 ≤ 15 ms', value: byTarget['express-memory']?.p99Ms, pass: (v) => v <= 15 },
  ];
  for (const store of ['memory', 'redis', 'postgres']) {
    const e = byTarget[`express-${store}`];
    const n = byTarget[`nestjs-${store}`];
    if (e && n)
      list.push({
        goal: `nestjs-${store} within 15% of express-${store}`,
        value: n.ceremoniesPerSecond / e.ceremoniesPerSecond,
        pass: (v) => v >= 0.85,
      });
  }
  for (const store of ['redis', 'postgres']) {
    const e = byTarget[`express-${store}`];
    if (e) {
      const calls = store === 'redis' ? e.redisCommandsPerCeremony : e.postgresQueriesPerCeremony;
      // Nothing counted means the counting missed the demo's client, not a store-free ceremony.
      list.push({
        goal: `express-${store} ≤ 5 store calls per ceremony`,
        value: calls,
        pass: (v) => v > 0 && v <= 5,
      });
    }
  }
  const tuned = byTarget.tunedbaseline?.ceremoniesPerSecond;
  if (tuned && byTarget['express-memory'])
    list.push({
      goal: 'express-memory ≥ 2.0× tunedbaseline (not an issue goal: both served with the apps’ prototypes)',
      value: byTarget['express-memory'].ceremoniesPerSecond / tuned,
      pass: (v) => v >= 2,
    });
  return list
    .filter((g) => g.value !== undefined && Number.isFinite(g.value))
    .map((g) => ({ goal: g.goal, value: Number(g.value.toFixed(2)), met: g.pass(g.value) }));
}

function table(rows, base) {
  const header = [
    'target',
    'cer/s',
    'rounds',
    '×base',
    'p50 ms',
    'p99 ms',
    'srv CPU µs/cer (sys)',
    'cli CPU µs/cer',
    'db CPU µs/cer',
    'RSS MiB',
    'redis cmd/cer',
    'pg q/cer',
    'fail',
  ];
  const lines = rows.map((r) => [
    r.target,
    r.ceremoniesPerSecond.toFixed(0),
    r.roundsPerSecond.join('/'),
    base ? (r.ceremoniesPerSecond / base).toFixed(2) : '-',
    r.p50Ms.toFixed(2),
    r.p99Ms.toFixed(2),
    `${r.serverCpuMicrosPerCeremony.toFixed(0)} (${r.serverSystemCpuMicrosPerCeremony.toFixed(0)})`,
    r.clientCpuMicrosPerCeremony.toFixed(0),
    Number.isNaN(r.storeServersCpuMicrosPerCeremony) ? '-' : r.storeServersCpuMicrosPerCeremony.toFixed(0),
    r.rssMiB.toFixed(0),
    r.redisCommandsPerCeremony.toFixed(1),
    r.postgresQueriesPerCeremony.toFixed(1),
    String(r.failures),
  ]);
  return markdownTable(header, lines);
}

/** Where the latency tail comes from, per target: each step's p99, GC and event-loop delay on both sides. */
function diagnosticsTable(rows) {
  const header = [
    'target',
    'p99 options',
    'p99 sign',
    'p99 verify',
    'p99 by round',
    'srv GC µs/cer',
    'srv GCs (major)',
    'srv GC max ms',
    'srv loop p99/max ms',
    'cli GC max ms',
    'cli loop p99/max ms',
  ];
  const ms = (v) => v.toFixed(1);
  const lines = rows.map(({ target, roundsP99Ms, diagnostics: { p99Ms, server, client } }) => [
    target,
    ms(p99Ms.options),
    ms(p99Ms.sign),
    ms(p99Ms.verify),
    roundsP99Ms.map(ms).join('/'),
    (server.gcMsPerCeremony * 1000).toFixed(0),
    `${server.gcPauses} (${server.gcMajor})`,
    ms(server.gcMaxPauseMs),
    `${ms(server.loopDelayP99Ms)}/${ms(server.loopDelayMaxMs)}`,
    ms(client.gcMaxPauseMs),
    `${ms(client.loopDelayP99Ms)}/${ms(client.loopDelayMaxMs)}`,
  ]);
  return markdownTable(header, lines);
}

function markdownTable(header, lines) {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const row = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [row(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(row)].join('\n');
}

async function main() {
  for (const t of TARGETS) if (!ALL_TARGETS.includes(t)) throw new Error(`unknown target ${t}`);
  const place = placement();
  const machine = {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: place.cores,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
    loadAverageAtStart: os.loadavg().map((l) => Number(l.toFixed(2))),
    pinned: place.pinned
      ? `server on core ${place.serverCore}, client on core ${place.clientCore}`
      : 'not pinned',
    note: NOTE,
  };
  console.log(
    `[bench] ${TARGETS.length} targets × ${ROUNDS} rounds × (${WARMUP_SECONDS} s warm-up + ${SECONDS} s), ` +
      `${FIRST_WARMUP_SECONDS} s first warm-up per server, ${USERS} concurrent users, ${machine.pinned}; ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ` +
      `load ${machine.loadAverageAtStart.join(' ')}`,
  );

  const servers = [];
  const results = new Map(TARGETS.map((t) => [t, []]));
  try {
    for (const name of TARGETS) {
      const server = startServer(name, place);
      servers.push(server);
      const ready = await server.ask('ready');
      server.origin = ready.origin;
      server.url = ready.url;
      server.api = client(ready.url, ready.origin);
      server.users = await signUp(server.api, ready.origin, name);
      await load(server.api, server.origin, server.users, FIRST_WARMUP_SECONDS);
      freeze(server);
    }
    for (let round = 1; round <= ROUNDS; round++) {
      for (const server of servers) {
        thaw(server);
        const r = await measureRound(server, server.api, server.users);
        freeze(server);
        results.get(server.name).push(r);
        console.log(
          `[bench] round ${round} ${server.name}: ${r.perSecond.toFixed(0)}/s, ` +
            `${(r.serverCpuMicros / Math.max(1, r.ceremonies)).toFixed(0)} µs server CPU/ceremony` +
            (r.failures ? `, ${r.failures} FAILED (${r.firstFailure})` : ''),
        );
      }
    }
  } finally {
    for (const server of servers) {
      thaw(server);
      server.api?.close();
      if (server.child.exitCode === null) {
        await server.ask('stop', 30_000).catch(() => server.child.kill('SIGKILL'));
      }
    }
  }

  const rows = TARGETS.map((t) => summarise(t, results.get(t)));
  const byTarget = Object.fromEntries(rows.map((r) => [r.target, r]));
  const base = byTarget.baseline?.ceremoniesPerSecond;
  const goalList = goals(byTarget);
  console.log(`\n${table(rows, base)}\n\n${diagnosticsTable(rows)}\n`);
  for (const g of goalList) console.log(`[bench] ${g.met ? 'met    ' : 'NOT met'} ${g.goal}: ${g.value}`);

  const report = {
    measuredAt: new Date().toISOString(),
    machine,
    settings: {
      seconds: SECONDS,
      warmupSeconds: WARMUP_SECONDS,
      firstWarmupSeconds: FIRST_WARMUP_SECONDS,
      // The Node.js options each server ran with (nodeOptionsOf, then BENCH_SERVER_FLAGS).
      nodeOptions: Object.fromEntries(servers.map((s) => [s.name, s.nodeOptions])),
      rounds: ROUNDS,
      users: USERS,
      algorithm: 'ES256',
    },
    results: rows.map(({ firstFailure, ...r }) => ({
      ...r,
      ratioToBaseline: base ? Number((r.ceremoniesPerSecond / base).toFixed(3)) : null,
    })),
    goals: goalList,
  };
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, 'sign-in.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(OUT, 'sign-in.svg'), drawChart(report));
  console.log(`[bench] wrote ${join(OUT, 'sign-in.json')} and sign-in.svg`);
  if (rows.some((r) => r.failures > 0 || r.ceremonies === 0)) {
    for (const r of rows)
      if (r.firstFailure) console.error(`[bench] ${r.target}: first failure: ${r.firstFailure}`);
    process.exitCode = 1;
  }
}

await main();
