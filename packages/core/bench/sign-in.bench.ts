/**
 * Server-side cost of one passkey sign-in: `finishAuthentication` against the in-memory stores, with
 * assertions signed ahead of time so the authenticator's signing is not measured. Compare with the
 * figures in the project brief (a hand-rolled Express + SimpleWebAuthn server: ~800 ceremonies/s per
 * core; SimpleWebAuthn's verify alone: ~2,500/s). Run: `pnpm --filter @passgate/core bench`.
 */
import {
  authenticationResponseSchema,
  createMemoryStores,
  createPassgate,
  type Passgate,
  parseBody,
} from '@passgate/core';
import { SoftwareAuthenticator } from '@passgate/testing';
import { bench, describe } from 'vitest';

const ORIGIN = 'https://bench.example.com';
const POOL = 4000;

async function setup(algorithm: 'ES256' | 'Ed25519') {
  const passgate: Passgate = createPassgate({
    rp: { name: 'bench', id: 'bench.example.com', origins: [ORIGIN] },
    stores: createMemoryStores({ maxPendingChallenges: POOL * 2 }),
    secret: 'bench-secret-bench-secret-bench-secret!',
    rateLimits: { perIp: false, accountFailures: false },
  });
  // Counter 0 (synced-passkey style) so pre-signed assertions may finish in any order.
  const authenticator = new SoftwareAuthenticator({ algorithms: [algorithm], counter: 'zero' });
  const reg = await passgate.startRegistration({ session: null, username: `bench-${algorithm}` });
  const response = await authenticator.createCredential(reg.options, { origin: ORIGIN });
  await passgate.finishRegistration({
    ceremonyId: reg.ceremonyId,
    response: parseBody((await import('@passgate/core')).registrationResponseSchema, response),
    session: null,
  });
  const pending: { ceremonyId: string; response: ReturnType<typeof parseBody<unknown>> }[] = [];
  for (let i = 0; i < POOL; i++) {
    const start = await passgate.startAuthentication({});
    const assertion = await authenticator.getAssertion(start.options, { origin: ORIGIN });
    pending.push({
      ceremonyId: start.ceremonyId,
      response: parseBody(authenticationResponseSchema, assertion),
    });
  }
  return { passgate, pending };
}

for (const algorithm of ['ES256', 'Ed25519'] as const) {
  describe(`sign-in, ${algorithm}`, async () => {
    const { passgate, pending } = await setup(algorithm);
    bench(
      'finishAuthentication (memory stores)',
      async () => {
        const next = pending.pop();
        if (!next) throw new Error('pool exhausted: lower the iterations');
        await passgate.finishAuthentication({
          ceremonyId: next.ceremonyId,
          response: next.response as never,
        });
      },
      { iterations: 1500, warmupIterations: 200, time: 0, warmupTime: 0 },
    );
  });
}

describe('options', async () => {
  const { passgate } = await setup('ES256');
  bench(
    'startAuthentication (usernameless)',
    async () => {
      await passgate.startAuthentication({});
    },
    { time: 1000 },
  );
});
