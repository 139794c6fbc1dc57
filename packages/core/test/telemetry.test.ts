import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  type DataPoint,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import {
  createMemoryStores,
  FAILURE_REASONS,
  type PassgateStores,
  RequestCount,
  type TelemetryOptions,
} from '@passgate/core';
import { SoftwareAuthenticator } from '@passgate/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { authenticationAttempt, failure, makePassgate, signIn, signUp } from './helpers.js';

/** A tracer and a meter provider that keep everything in memory, as the SDK's tests do. */
function recorder() {
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    options: { tracerProvider, meterProvider } satisfies TelemetryOptions,
    spans: () => spans.getFinishedSpans(),
    /** Every data point of the metric `name` after a flush. */
    async points(name: string): Promise<DataPoint<unknown>[]> {
      await reader.forceFlush();
      const found = exporter
        .getMetrics()
        .at(-1)
        ?.scopeMetrics.flatMap((scope) => scope.metrics)
        .find((metric) => metric.descriptor.name === name);
      return (found?.dataPoints ?? []) as DataPoint<unknown>[];
    },
  };
}

const sum = (points: DataPoint<unknown>[], attributes: Record<string, unknown>) =>
  points
    .filter((p) => Object.entries(attributes).every(([k, v]) => p.attributes[k] === v))
    .reduce((total, p) => total + (p.value as number), 0);

afterEach(() => {
  trace.disable();
  metrics.disable();
  context.disable();
});

describe('OpenTelemetry spans', () => {
  it('one span per ceremony step, with store-call spans, and no credential id or secret', async () => {
    const r = recorder();
    const h = makePassgate({ telemetry: r.options });
    const authenticator = new SoftwareAuthenticator();
    const up = await signUp(h, authenticator, 'alice');
    await signIn(h, authenticator);
    const names = r.spans().map((s) => s.name);
    for (const step of [
      'passgate.registration.start',
      'passgate.registration.finish',
      'passgate.authentication.start',
      'passgate.authentication.finish',
    ]) {
      expect(names.filter((n) => n === step)).toHaveLength(1);
    }
    expect(names).toContain('passgate.store challenges.put');
    expect(names).toContain('passgate.store challenges.consume');
    expect(names).toContain('passgate.store accounts.create');
    const finish = r.spans().find((s) => s.name === 'passgate.authentication.finish');
    expect(finish?.attributes).toEqual({
      'passgate.ceremony.kind': 'authentication',
      'passgate.ceremony.step': 'finish',
    });
    const everything = JSON.stringify(r.spans().map((s) => [s.name, s.attributes, s.status, s.events]));
    expect(everything).not.toContain(up.credential.id);
    expect(everything).not.toContain('alice');
  });

  it('puts the credential id on finish spans only when the application opts in', async () => {
    const r = recorder();
    const h = makePassgate({ telemetry: { ...r.options, recordCredentialIds: true } });
    const authenticator = new SoftwareAuthenticator();
    const up = await signUp(h, authenticator, 'alice');
    await signIn(h, authenticator);
    const finishes = r.spans().filter((s) => s.name.endsWith('.finish'));
    expect(finishes.map((s) => s.attributes['passgate.credential.id'])).toEqual([
      up.credential.id,
      up.credential.id,
    ]);
  });

  it('a failed step has status ERROR with the error code as error.type, and no message', async () => {
    const r = recorder();
    const h = makePassgate({ telemetry: r.options });
    const authenticator = new SoftwareAuthenticator();
    await signUp(h, authenticator, 'alice');
    const attempt = await authenticationAttempt(h, authenticator, { ctx: { signature: 'corrupt' } });
    await failure(attempt.finish());
    const span = r.spans().find((s) => s.name === 'passgate.authentication.finish');
    expect(span?.status).toEqual({ code: 2, message: 'verification_failed' });
    expect(span?.attributes['error.type']).toBe('verification_failed');
  });

  it('uses the global providers of @opentelemetry/api when none are given', async () => {
    const r = recorder();
    trace.setGlobalTracerProvider(r.options.tracerProvider);
    metrics.setGlobalMeterProvider(r.options.meterProvider);
    const h = makePassgate();
    await h.passgate.startAuthentication();
    expect(r.spans().map((s) => s.name)).toContain('passgate.authentication.start');
  });

  it('an SDK registered after Passgate was created gets the spans from then on (none are made before)', async () => {
    // The copy of the API the core loads (its CommonJS build; this file imports the ES one, whose
    // global proxy is another object): an SDK registers through the application's copy.
    const api = createRequire(import.meta.url)('@opentelemetry/api') as typeof import('@opentelemetry/api');
    const h = makePassgate();
    await h.passgate.startAuthentication();
    const r = recorder();
    api.trace.setGlobalTracerProvider(r.options.tracerProvider);
    try {
      expect(r.spans()).toEqual([]);
      await h.passgate.startAuthentication();
      expect(r.spans().map((s) => s.name)).toEqual([
        'passgate.store challenges.put',
        'passgate.authentication.start',
      ]);
    } finally {
      api.trace.disable();
    }
  });

  it("nests the store calls' spans under their ceremony step's span (with a context manager)", async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const r = recorder();
    const h = makePassgate({ telemetry: r.options });
    const authenticator = new SoftwareAuthenticator();
    await signUp(h, authenticator, 'alice');
    await signIn(h, authenticator);
    const spans = r.spans();
    const steps = spans.filter((s) => /^passgate\.(registration|authentication)\./.test(s.name));
    const stores = spans.filter((s) => s.name.startsWith('passgate.store '));
    expect(steps.length).toBeGreaterThanOrEqual(4);
    expect(stores.length).toBeGreaterThan(0);
    const stepIds = new Set(steps.map((s) => s.spanContext().spanId));
    for (const store of stores) {
      // Every store call of these flows happens inside a step: its parent is that step's span.
      expect(stepIds.has(store.parentSpanContext?.spanId ?? ''), store.name).toBe(true);
      const parent = steps.find((s) => s.spanContext().spanId === store.parentSpanContext?.spanId);
      expect(parent?.spanContext().traceId).toBe(store.spanContext().traceId);
    }
    // The sign-in's own store calls (consuming its ceremony, reading the credential) belong to the
    // authentication finish.
    const finish = steps.find((s) => s.name === 'passgate.authentication.finish');
    expect(
      stores.filter((s) => s.parentSpanContext?.spanId === finish?.spanContext().spanId).length,
    ).toBeGreaterThan(0);
  });

  it('without @opentelemetry/api installed: ceremonies run, with no telemetry and no error', () => {
    // A child process in which `@opentelemetry/api` cannot be resolved, as in an app that did not
    // install the optional peer: resolving it throws MODULE_NOT_FOUND, as Node does then.
    const script = `
      const Module = require('node:module');
      const resolve = Module._resolveFilename;
      const attempts = [];
      Module._resolveFilename = function (request, ...rest) {
        if (request === '@opentelemetry/api' || request.startsWith('@opentelemetry/api/')) {
          attempts.push(request);
          const error = new Error("Cannot find module '" + request + "'");
          error.code = 'MODULE_NOT_FOUND';
          throw error;
        }
        return resolve.call(this, request, ...rest);
      };
      (async () => {
        const { createPassgate, createMemoryStores, silentLogger } = await import('@passgate/core');
        const passgate = createPassgate({
          rp: { name: 'No OTel', id: 'example.test', origins: ['https://example.test'] },
          secret: 'a-test-secret-of-at-least-32-bytes!!',
          stores: createMemoryStores(),
          logger: silentLogger,
        });
        const started = await passgate.startRegistration({ session: null, username: 'ada' });
        const auth = await passgate.startAuthentication();
        const failed = await passgate
          .finishAuthentication({ ceremonyId: auth.ceremonyId, response: { id: 'AAAA' } })
          .then(() => 'resolved', (error) => error.code);
        console.log(JSON.stringify({
          attempts,
          challenge: typeof started.options.challenge,
          failed,
          loaded: Object.keys(require.cache).some((f) => f.includes('@opentelemetry')),
        }));
      })().catch((error) => { console.error(error); process.exit(1); });
    `;
    const out = execFileSync(process.execPath, ['-e', script], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      encoding: 'utf8',
    });
    const result = JSON.parse(out.trim().split('\n').at(-1) ?? '{}');
    expect(result.attempts).toEqual(['@opentelemetry/api']);
    expect(result.challenge).toBe('string');
    // A failed step is the same typed error as with OpenTelemetry installed.
    expect(result.failed).toBe('verification_failed');
    expect(result.loaded).toBe(false);
  });

  it('records nothing with telemetry: false', async () => {
    const r = recorder();
    trace.setGlobalTracerProvider(r.options.tracerProvider);
    const h = makePassgate({ telemetry: false });
    await h.passgate.startAuthentication();
    expect(r.spans()).toEqual([]);
  });
});

describe('OpenTelemetry metrics', () => {
  it('counts ceremonies by kind and outcome, with a fixed failure reason, and times the verify', async () => {
    const r = recorder();
    const h = makePassgate({ telemetry: r.options });
    const authenticator = new SoftwareAuthenticator();
    await signUp(h, authenticator, 'alice');
    await signIn(h, authenticator);
    const bad = await authenticationAttempt(h, authenticator, { ctx: { signature: 'corrupt' } });
    await failure(bad.finish());
    await failure(bad.finish()); // the ceremony is consumed: ceremony_expired

    const ceremonies = await r.points('passgate.ceremonies');
    const kind = (k: string, outcome: string) => ({
      'passgate.ceremony.kind': k,
      'passgate.ceremony.outcome': outcome,
    });
    expect(sum(ceremonies, kind('registration', 'success'))).toBe(1);
    expect(sum(ceremonies, kind('authentication', 'success'))).toBe(1);
    expect(sum(ceremonies, kind('authentication', 'failure'))).toBe(2);
    expect(
      ceremonies
        .filter((p) => p.attributes['passgate.ceremony.outcome'] === 'failure')
        .map((p) => p.attributes['passgate.ceremony.failure_reason'])
        .sort(),
    ).toEqual(['ceremony_expired', 'verification_failed']);
    for (const p of ceremonies) {
      const reason = p.attributes['passgate.ceremony.failure_reason'];
      if (reason !== undefined) expect([...FAILURE_REASONS, 'other']).toContain(reason);
    }

    const durations = await r.points('passgate.verify.duration');
    const counts = durations.map((p) => ({ ...p.attributes, count: (p.value as { count: number }).count }));
    expect(counts).toContainEqual({ ...kind('authentication', 'failure'), count: 2 });
    expect(counts).toContainEqual({ ...kind('registration', 'success'), count: 1 });
  });

  it('counts clone suspicions', async () => {
    const r = recorder();
    const h = makePassgate({ telemetry: r.options });
    const authenticator = new SoftwareAuthenticator();
    await signUp(h, authenticator, 'alice');
    await signIn(h, authenticator, { ctx: { counter: 5 } });
    const replay = await authenticationAttempt(h, authenticator, { ctx: { counter: 5 } });
    await failure(replay.finish());
    expect(sum(await r.points('passgate.clone_suspicions'), {})).toBe(1);
  });

  it('counts rate-limit refusals by bucket', async () => {
    const r = recorder();
    const h = makePassgate({
      telemetry: r.options,
      rateLimits: { perIp: { points: 2, durationSeconds: 60 }, accountFailures: false },
    });
    for (let i = 0; i < 4; i++) await h.passgate.consumeRequestLimit('203.0.113.9').catch(() => {});
    const refusals = await r.points('passgate.rate_limit.refusals');
    expect(sum(refusals, { 'passgate.rate_limit.bucket': 'ip' })).toBe(2);

    const limited = recorder();
    const a = makePassgate({
      telemetry: limited.options,
      rateLimits: { perIp: false, accountFailures: { points: 1, durationSeconds: 900 } },
    });
    const authenticator = new SoftwareAuthenticator();
    await signUp(a, authenticator, 'alice');
    for (let i = 0; i < 2; i++) {
      const attempt = await authenticationAttempt(a, authenticator, {
        username: 'alice',
        ctx: { signature: 'corrupt' },
      });
      await failure(attempt.finish());
    }
    const accountRefusals = await limited.points('passgate.rate_limit.refusals');
    expect(sum(accountRefusals, { 'passgate.rate_limit.bucket': 'account' })).toBe(1);
  });

  it('a per-IP refusal inside a ceremony (a request count it was given) is an ip refusal, not a failed ceremony', async () => {
    const r = recorder();
    const h = makePassgate({
      telemetry: r.options,
      rateLimits: {
        perIp: { points: 1, durationSeconds: 60 },
        accountFailures: { points: 5, durationSeconds: 60 },
      },
    });
    const count = () => new RequestCount('203.0.113.10');
    await h.passgate.startAuthentication({ count: count() });
    await failure(h.passgate.startAuthentication({ count: count() }));
    const refused = await failure(
      h.passgate.finishAuthentication({
        ceremonyId: 'A'.repeat(43),
        response: { id: 'AAAA' } as never,
        count: count(),
      }),
    );
    expect(refused).toMatchObject({ code: 'rate_limited' });
    const refusals = await r.points('passgate.rate_limit.refusals');
    expect(sum(refusals, { 'passgate.rate_limit.bucket': 'ip' })).toBe(2);
    expect(sum(refusals, { 'passgate.rate_limit.bucket': 'account' })).toBe(0);
    expect(sum(await r.points('passgate.ceremonies'), {})).toBe(0);
  });

  it('records store latency per operation, and store errors by type', async () => {
    const r = recorder();
    const stores = createMemoryStores();
    let down = false;
    const flaky: PassgateStores = {
      ...stores,
      challenges: {
        ...stores.challenges,
        put: (...args: Parameters<PassgateStores['challenges']['put']>) =>
          down
            ? // An outage (a Node.js network code); a plain error would be a 500 (contract 1.1).
              Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))
            : stores.challenges.put(...args),
      },
    };
    const h = makePassgate({ telemetry: r.options, stores: flaky });
    await h.passgate.startAuthentication();
    down = true;
    expect((await failure(h.passgate.startAuthentication())).code).toBe('store_unavailable');

    const latency = await r.points('passgate.store.duration');
    const put = (outcome: string) =>
      latency
        .filter(
          (p) =>
            p.attributes['passgate.store.operation'] === 'challenges.put' &&
            p.attributes['passgate.store.outcome'] === outcome,
        )
        .map((p) => (p.value as { count: number }).count);
    expect(put('success')).toEqual([1]);
    expect(put('failure')).toEqual([1]);
    const errors = await r.points('passgate.store.errors');
    expect(errors.map((p) => ({ ...p.attributes, value: p.value }))).toEqual([
      { 'passgate.store.operation': 'challenges.put', 'error.type': 'store_unavailable', value: 1 },
    ]);
    const span = r.spans().find((s) => s.name === 'passgate.store challenges.put' && s.status.code === 2);
    expect(span?.attributes['error.type']).toBe('store_unavailable');
    expect(JSON.stringify(span?.attributes)).not.toContain('ECONNREFUSED');
  });
});
