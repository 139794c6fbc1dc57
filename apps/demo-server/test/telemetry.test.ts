import { metrics, trace } from '@opentelemetry/api';
import { createMemoryStores, createPassgate, silentLogger } from '@passgate/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { installConsoleTelemetry } from '../src/telemetry.js';

afterEach(() => {
  trace.disable();
  metrics.disable();
  vi.restoreAllMocks();
});

describe('installConsoleTelemetry', () => {
  it('installs nothing unless OTEL_* asks for the console', async () => {
    const installed = installConsoleTelemetry({ OTEL_TRACES_EXPORTER: 'otlp' });
    expect({ traces: installed.traces, metrics: installed.metrics }).toEqual({
      traces: false,
      metrics: false,
    });
  });

  it('prints Passgate spans to the console with OTEL_TRACES_EXPORTER=console', async () => {
    const printed: unknown[] = [];
    vi.spyOn(console, 'dir').mockImplementation((value) => {
      printed.push(value);
    });
    vi.spyOn(console, 'log').mockImplementation((value) => {
      printed.push(value);
    });
    const installed = installConsoleTelemetry({
      OTEL_TRACES_EXPORTER: 'console',
      OTEL_METRICS_EXPORTER: 'console',
    });
    expect({ traces: installed.traces, metrics: installed.metrics }).toEqual({ traces: true, metrics: true });
    const passgate = createPassgate({
      rp: { name: 'Demo', id: 'localhost', origins: ['http://localhost:3000'] },
      stores: createMemoryStores(),
      secret: 'demo-telemetry-test-secret-0123456789',
      logger: silentLogger,
    });
    await passgate.startAuthentication();
    await installed.shutdown();
    expect(JSON.stringify(printed)).toContain('passgate.authentication.start');
  });
});
