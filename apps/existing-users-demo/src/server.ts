import { type DemoConfig, type RunningDemo, type StartDemoOptions, serveDemo } from '@passgate/demo-server';
import type { Express } from 'express';
import { createExistingUsersApp } from './app.js';
import { createUserStore, prepareUserStore } from './users.js';

/**
 * Starts the existing-users demo on the shared demo machinery (`serveDemo` of `@passgate/demo-server`: the
 * contract's environment, stores and express-session store by `PASSGATE_STORE`), with the app's
 * password accounts in the same store. Passgate's own sign-up is off (accounts are made with a
 * password here) and the last passkey may be deleted (the password still signs the user in).
 */
export function startExistingUsersDemo(
  config: DemoConfig,
  options: StartDemoOptions = {},
): Promise<RunningDemo<Express>> {
  return serveDemo(
    'Acme Notes (existing users + Passgate)',
    config,
    {
      rpName: 'Acme Notes',
      ...options,
      passgateOverrides: { signUp: false, allowDeletingLastCredential: true },
    },
    async (resolved, backend) => {
      await prepareUserStore(backend.connection);
      const users = createUserStore(backend.connection);
      const app = createExistingUsersApp(resolved, backend, users, options.logger);
      return { app, listener: app, prototypes: app };
    },
  );
}
