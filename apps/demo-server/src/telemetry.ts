/**
 * `OTEL_TRACES_EXPORTER=console` and/or `OTEL_METRICS_EXPORTER=console`: Passgate's spans and metrics
 * (docs/telemetry.md) printed to the console, to see them without a collector. Any other value, or
 * none, changes nothing: a real deployment registers its own OpenTelemetry SDK.
 */
import { metrics, trace } from '@opentelemetry/api';
import {
  ConsoleMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, ConsoleSpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

/** What was installed, so a caller (a test, a shutdown) can flush and close it. */
export interface ConsoleTelemetry {
  traces: boolean;
  metrics: boolean;
  shutdown(): Promise<void>;
}

const asks = (value: string | undefined) =>
  (value ?? '')
    .split(',')
    .map((v) => v.trim())
    .includes('console');

/**
 * Registers console exporters as the global OpenTelemetry providers when the `OTEL_*` variables ask
 * for them (Passgate uses the global providers by default). `OTEL_METRIC_EXPORT_INTERVAL`
 * (milliseconds, default 60000) sets how often metrics are printed.
 */
export function installConsoleTelemetry(env: NodeJS.ProcessEnv = process.env): ConsoleTelemetry {
  const closers: (() => Promise<void>)[] = [];
  const traces = asks(env['OTEL_TRACES_EXPORTER']);
  if (traces) {
    const provider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter())],
    });
    trace.setGlobalTracerProvider(provider);
    closers.push(() => provider.shutdown());
  }
  const wantsMetrics = asks(env['OTEL_METRICS_EXPORTER']);
  if (wantsMetrics) {
    const interval = Number(env['OTEL_METRIC_EXPORT_INTERVAL'] ?? 60_000);
    const provider = new MeterProvider({
      readers: [
        new PeriodicExportingMetricReader({
          exporter: new ConsoleMetricExporter(),
          exportIntervalMillis: Number.isFinite(interval) && interval > 0 ? interval : 60_000,
        }),
      ],
    });
    metrics.setGlobalMeterProvider(provider);
    closers.push(() => provider.shutdown());
  }
  return {
    traces,
    metrics: wantsMetrics,
    shutdown: async () => {
      await Promise.all(closers.map((close) => close()));
    },
  };
}
