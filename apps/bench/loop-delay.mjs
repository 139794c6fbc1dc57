/**
 * Event-loop lateness, measured alike in the load client (`run.mjs`) and each server (`server.mjs`):
 * a timer every `LOOP_TIMER_MS`, and how late it fired.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

const LOOP_TIMER_MS = 10;

/**
 * Starts the timer. `read()` gives the p99 and the maximum lateness (ms) since the last `reset()`.
 * Node's histogram records the whole interval between two firings (an idle process reads about
 * 10.1 ms at a 10 ms resolution), so the timer's own period comes off.
 */
export function loopLateness() {
  const histogram = monitorEventLoopDelay({ resolution: LOOP_TIMER_MS });
  histogram.enable();
  const late = (nanoseconds) => Math.max(0, nanoseconds / 1e6 - LOOP_TIMER_MS);
  return {
    read: () => ({ p99: late(histogram.percentile(99)), max: late(histogram.max) }),
    reset: () => histogram.reset(),
  };
}
