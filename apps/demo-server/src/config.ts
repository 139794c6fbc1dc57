/**
 * The demo's configuration: the contract's "Demo apps' environment", parsed by the shared module in
 * `@passgate/demo-web/config` (plain JS, so the NestJS demo reads exactly the same rules).
 */
import { type DemoConfig, DemoConfigError, loadDemoConfig, originFor } from '@passgate/demo-web/config';

export type { DemoConfig, DemoStore } from '@passgate/demo-web/config';
export { DemoConfigError, loadDemoConfig, originFor, passgatePolicyOptions } from '@passgate/demo-web/config';

/**
 * Reads `process.env`; on a bad value prints a message naming the variable and exits with code 1.
 */
export function loadConfigOrExit(env: Record<string, string | undefined> = process.env): DemoConfig {
  try {
    return loadDemoConfig(env);
  } catch (error) {
    if (error instanceof DemoConfigError) {
      console.error(`Configuration error in ${error.variable}. ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
}

/** A configuration whose origin is known (after the server listens, for `PORT=0`). */
export type ResolvedDemoConfig = DemoConfig & { origin: string };

export function resolveOrigin(config: DemoConfig, port: number): ResolvedDemoConfig {
  return { ...config, origin: originFor(config, port) };
}
