/** What both demos' `main.ts` do around `startDemo`: exit on a failed start, shut down on signals. */

/** Awaits `start()`; if it fails, prints `The demo could not start: …` and exits with code 1. */
export async function startOrExit<T>(start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    console.error(`The demo could not start: ${(error as Error).message}`);
    process.exit(1);
  }
}

/**
 * On SIGTERM or SIGINT closes the running demo and exits (0, or 1 if closing fails or takes over
 * 10 s). A second signal exits at once with 1; a signal before the demo runs (`demo()` undefined)
 * exits at once with 0.
 */
export function closeOnSignals(demo: () => { close(): Promise<void> } | undefined): void {
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      const running = demo();
      if (stopping || !running) {
        if (stopping) console.error('Stopping now.');
        process.exit(stopping ? 1 : 0);
      }
      stopping = true;
      console.log(`${signal}: shutting down…`);
      setTimeout(() => {
        console.error('Shutdown took too long; exiting.');
        process.exit(1);
      }, 10_000).unref();
      running.close().then(
        () => process.exit(0),
        (error: unknown) => {
          console.error(`Shutdown failed: ${(error as Error).message}`);
          process.exit(1);
        },
      );
    });
  }
}
