import { createRequire } from 'node:module';
import { type ErrorCode, isPassgateError, type PassgateError } from './errors.js';
import type { PassgateEvents } from './events.js';
import { PER_IP_REFUSAL } from './rate-limits.js';

/**
 * OpenTelemetry for Passgate: a span per ceremony step and per store call, and the metrics in
 * `docs/telemetry.md`. `@opentelemetry/api` is an optional peer dependency: when it is not
 * installed (or `telemetry: false`), every wrapper below just runs its function.
 */
export interface TelemetryOptions {
  /**
   * Where spans go. Default: the global tracer provider of `@opentelemetry/api` (what your SDK
   * registered; nothing is recorded if none is).
   */
  tracerProvider?: TracerProviderLike;
  /** Where metrics go. Default: the global meter provider of `@opentelemetry/api`. */
  meterProvider?: MeterProviderLike;
  /**
   * Put credential ids on spans (`passgate.credential.id`, after a successful finish). Default
   * false: ids identify a person's authenticator, so they stay out of traces unless you opt in.
   * They are never put on metrics.
   */
  recordCredentialIds?: boolean;
}

/** The part of an OpenTelemetry `TracerProvider` Passgate uses (typed structurally: no import of the API). */
export interface TracerProviderLike {
  getTracer(name: string, version?: string): unknown;
}
/** The part of an OpenTelemetry `MeterProvider` Passgate uses. */
export interface MeterProviderLike {
  getMeter(name: string, version?: string): unknown;
}

export type CeremonyKind = 'registration' | 'authentication';
export type CeremonyStep = 'start' | 'finish';

/** What the ceremonies and the store wrapper call; a no-op object when telemetry is off. */
export interface Telemetry {
  /** Runs one ceremony step in a span; a finish also counts the ceremony and times the verify. */
  step<T>(kind: CeremonyKind, step: CeremonyStep, run: () => Promise<T>): Promise<T>;
  /** Runs one store call in a span and records its latency and, when it fails, its error. */
  store<T>(operation: string, run: () => Promise<T>): Promise<T>;
  /** Counts a refused request of the per-IP bucket (the account bucket is seen in `step`). */
  ipLimit<T>(run: () => Promise<T>): Promise<T>;
}

/** The instrumentation scope's name, as it appears on every span and metric. */
export const INSTRUMENTATION_NAME = '@passgate/core';

/**
 * The failure reasons of `passgate.ceremonies`: a small fixed set, so dashboards and alerts can rely
 * on it. Any other error code is `other`.
 */
export const FAILURE_REASONS = [
  'ceremony_expired',
  'verification_failed',
  'unknown_credential',
  'credential_cloned',
  'credential_exists',
  'username_taken',
  'rate_limited',
  'unauthenticated',
  'store_unavailable',
  'internal_error',
  'invalid_request',
] as const satisfies readonly ErrorCode[];
export type FailureReason = (typeof FAILURE_REASONS)[number] | 'other';

export function failureReason(error: unknown): FailureReason {
  const code = isPassgateError(error) ? error.code : 'internal_error';
  return (FAILURE_REASONS as readonly string[]).includes(code) ? (code as FailureReason) : 'other';
}

const passthrough: Telemetry = {
  step: (_kind, _step, run) => run(),
  store: (_operation, run) => run(),
  ipLimit: (run) => run(),
};

/** The subset of `@opentelemetry/api` used here. */
interface OtelApi {
  trace: { getTracerProvider(): TracerProviderLike };
  metrics: { getMeterProvider(): MeterProviderLike };
  SpanStatusCode: { OK: number; ERROR: number };
  SpanKind: { INTERNAL: number };
  /** The global provider's class: it hands out no-op tracers until an SDK registers a delegate. */
  ProxyTracerProvider?: new () => { getDelegate(): unknown };
  /** The meter the API's no-op meter provider hands out. */
  createNoopMeter?: () => unknown;
}
interface Span {
  setAttribute(key: string, value: string | number | boolean): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  end(): void;
}
interface Tracer {
  startActiveSpan<T>(
    name: string,
    options: { kind: number; attributes: Attributes },
    run: (span: Span) => T,
  ): T;
}
type Attributes = Record<string, string | number | boolean>;
interface Meter {
  createCounter(
    name: string,
    options: { description: string; unit?: string },
  ): {
    add(value: number, attributes?: Attributes): void;
  };
  createHistogram(
    name: string,
    options: { description: string; unit: string; advice?: { explicitBucketBoundaries: number[] } },
  ): { record(value: number, attributes?: Attributes): void };
}

let loaded: OtelApi | null | undefined;
/**
 * `@opentelemetry/api`, loaded once on first use with a synchronous require so ceremonies never
 * wait for it; `null` when the application did not install it (an optional peer dependency).
 */
function loadApi(): OtelApi | null {
  if (loaded === undefined) {
    try {
      loaded = createRequire(import.meta.url)('@opentelemetry/api') as OtelApi;
    } catch {
      loaded = null;
    }
  }
  return loaded;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The telemetry for one Passgate instance. `options === false` or a missing `@opentelemetry/api`
 * gives the pass-through object (no spans, no metrics, no cost beyond a function call).
 */
export function createTelemetry(
  options: TelemetryOptions | false | undefined,
  events: PassgateEvents,
): Telemetry {
  if (options === false) return passthrough;
  const api = loadApi();
  if (!api) return passthrough;
  const tracerProvider = options?.tracerProvider ?? api.trace.getTracerProvider();
  const meterProvider = options?.meterProvider ?? api.metrics.getMeterProvider();
  const tracer = tracerProvider.getTracer(INSTRUMENTATION_NAME) as Tracer;
  const meter = meterProvider.getMeter(INSTRUMENTATION_NAME) as Meter;
  const recordIds = options?.recordCredentialIds === true;
  const { OK, ERROR } = api.SpanStatusCode;
  const INTERNAL = api.SpanKind.INTERNAL;

  const counter = (name: string, unit: string, description: string) =>
    meter.createCounter(name, { description, unit });
  // Seconds, with buckets from 1 ms to 10 s (a verify or a store call).
  const latency = (name: string, description: string) =>
    meter.createHistogram(name, {
      description,
      unit: 's',
      advice: { explicitBucketBoundaries: LATENCY_BUCKETS },
    });
  const ceremonies = counter(
    'passgate.ceremonies',
    '{ceremony}',
    'Finished ceremonies (verify steps), by kind and outcome, with a failure reason.',
  );
  const verifyDuration = latency(
    'passgate.verify.duration',
    'Duration of a ceremony finish (verify) step, store calls included.',
  );
  const storeDuration = latency('passgate.store.duration', 'Duration of one store call.');
  const storeErrors = counter(
    'passgate.store.errors',
    '{error}',
    'Store calls that failed, by operation and error type.',
  );
  const refusals = counter(
    'passgate.rate_limit.refusals',
    '{request}',
    'Requests refused by a rate limit, by bucket.',
  );
  const clones = counter(
    'passgate.clone_suspicions',
    '{assertion}',
    'Validly signed assertions whose signature counter did not increase.',
  );
  events.on('clone_suspected', () => clones.add(1));

  const tracingOff = noSdkYet(api, tracerProvider);
  // The meter is fixed here: the API's no-op one records nothing, ever (unlike the tracer's proxy).
  const metricsOff = typeof api.createNoopMeter === 'function' && meter === api.createNoopMeter();
  /** Neither a span nor a metric would be kept: run the call bare. */
  const off = () => metricsOff && tracingOff();

  /** Runs `run` in an active span (so store spans nest under their step), ending it either way. */
  async function inSpan<T>(
    name: string,
    attributes: Attributes,
    run: (span: Span) => Promise<T>,
    failed: (span: Span, error: unknown) => void,
  ): Promise<T> {
    if (tracingOff()) {
      // The metrics are recorded all the same; only the span (which nothing would keep) is skipped.
      try {
        return await run(NO_SPAN);
      } catch (error) {
        failed(NO_SPAN, error);
        throw error;
      }
    }
    return tracer.startActiveSpan(name, { kind: INTERNAL, attributes }, async (span) => {
      try {
        const result = await run(span);
        span.setStatus({ code: OK });
        return result;
      } catch (error) {
        failed(span, error);
        throw error;
      } finally {
        span.end();
      }
    });
  }

  const errorCode = (error: unknown): string => (isPassgateError(error) ? error.code : 'internal_error');

  return {
    step(kind, step, run) {
      if (off()) return run();
      const attributes = { 'passgate.ceremony.kind': kind, 'passgate.ceremony.step': step };
      const started = performance.now();
      return inSpan(
        `passgate.${kind}.${step}`,
        attributes,
        async (span) => {
          const result = await run();
          if (step === 'finish') {
            const outcome = { 'passgate.ceremony.kind': kind, 'passgate.ceremony.outcome': 'success' };
            ceremonies.add(1, outcome);
            verifyDuration.record((performance.now() - started) / 1000, outcome);
            const id = recordIds ? credentialIdOf(result) : undefined;
            if (id !== undefined) span.setAttribute('passgate.credential.id', id);
          }
          return result;
        },
        (span, error) => {
          const code = errorCode(error);
          // The code only: messages and causes may carry a store's details.
          span.setAttribute('error.type', code);
          span.setStatus({ code: ERROR, message: code });
          // A request the per-IP bucket refused (counted in the ceremony's store operation) is no
          // ceremony attempt: `ipLimit` counted its refusal, as when the limit came before the step.
          if (code === 'rate_limited' && (error as PassgateError).reason === PER_IP_REFUSAL) return;
          if (code === 'rate_limited') refusals.add(1, { 'passgate.rate_limit.bucket': 'account' });
          if (step === 'finish') {
            const outcome = { 'passgate.ceremony.kind': kind, 'passgate.ceremony.outcome': 'failure' };
            ceremonies.add(1, { ...outcome, 'passgate.ceremony.failure_reason': failureReason(error) });
            verifyDuration.record((performance.now() - started) / 1000, outcome);
          }
        },
      );
    },
    store(operation, run) {
      if (off()) return run();
      const started = performance.now();
      return inSpan(
        `passgate.store ${operation}`,
        { 'passgate.store.operation': operation },
        async () => {
          const result = await run();
          storeDuration.record((performance.now() - started) / 1000, {
            'passgate.store.operation': operation,
            'passgate.store.outcome': 'success',
          });
          return result;
        },
        (span, error) => {
          const code = errorCode(error);
          span.setAttribute('error.type', code);
          span.setStatus({ code: ERROR, message: code });
          storeDuration.record((performance.now() - started) / 1000, {
            'passgate.store.operation': operation,
            'passgate.store.outcome': 'failure',
          });
          storeErrors.add(1, { 'passgate.store.operation': operation, 'error.type': code });
        },
      );
    },
    async ipLimit(run) {
      if (metricsOff) return run();
      try {
        return await run();
      } catch (error) {
        if (isPassgateError(error, 'rate_limited')) refusals.add(1, { 'passgate.rate_limit.bucket': 'ip' });
        throw error;
      }
    },
  };
}

/** What `inSpan` hands its callbacks when no span is made. */
const NO_SPAN: Span = { setAttribute: () => NO_SPAN, setStatus: () => NO_SPAN, end: () => {} };

/**
 * Whether spans would go nowhere right now: `provider` is the API's global proxy and no SDK has
 * registered a tracer provider behind it yet. Then each span would be a non-recording one that costs
 * a context copy and several closures for nothing (about a sixth of what a sign-in allocates in the
 * core), so `inSpan` skips it. Checked on every call (a property read), so an SDK registered after
 * Passgate was created is used from its first span on. Any other provider: always false.
 */
function noSdkYet(api: OtelApi, provider: TracerProviderLike): () => boolean {
  const ProxyProvider = api.ProxyTracerProvider;
  if (typeof ProxyProvider !== 'function' || !(provider instanceof ProxyProvider)) return () => false;
  const proxy = provider as InstanceType<typeof ProxyProvider>;
  // The API's no-op provider: what a proxy without a delegate hands back.
  const noop = new ProxyProvider().getDelegate();
  return () => proxy.getDelegate() === noop;
}

function credentialIdOf(result: unknown): string | undefined {
  const credential = (result as { credential?: { id?: unknown } } | null)?.credential;
  return typeof credential?.id === 'string' ? credential.id : undefined;
}
