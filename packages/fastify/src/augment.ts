import type { SignIn } from '@passgate/core';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The current sign-in, set by the passkeys plugin's hook on every request: a Passgate session,
     * the application's own signed-in user when `identify` is configured (`source: 'application'`),
     * or `null`. A sign-in made with a passkey that has since been deleted reads as `null`.
     */
    passkey: SignIn | null | undefined;
  }
}
