/**
 * One assertion verification: `@simplewebauthn/server`'s `verifyAuthenticationResponse` against the
 * fast path (`createAssertionVerifier`, key cached after the first call), for each algorithm with a
 * fast path. The same pre-signed assertion every time (counter 0). Run: `pnpm --filter @passgate/core bench`.
 */
import { createAssertionVerifier } from '@passgate/core';
import { type SoftwareAlgorithm, SoftwareAuthenticator } from '@passgate/testing';
import { type VerifyAuthenticationResponseOpts, verifyAuthenticationResponse } from '@simplewebauthn/server';
import { bench, describe } from 'vitest';

const RP_ID = 'bench.example.com';
const ORIGIN = `https://${RP_ID}`;
const CHALLENGE = Buffer.from('a bench challenge of 32 bytes!!!').toString('base64url');
const ALG: Record<SoftwareAlgorithm, number> = { ES256: -7, RS256: -257, Ed25519: -8 };

async function assertion(algorithm: SoftwareAlgorithm): Promise<VerifyAuthenticationResponseOpts> {
  const authenticator = new SoftwareAuthenticator({ algorithms: [algorithm], counter: 'zero' });
  await authenticator.createCredential(
    {
      rp: { id: RP_ID, name: 'bench' },
      user: { id: 'dXNlcg', name: 'u', displayName: 'u' },
      challenge: CHALLENGE,
      pubKeyCredParams: [{ type: 'public-key', alg: ALG[algorithm] }],
    },
    { origin: ORIGIN },
  );
  const stored = authenticator.credentials[0];
  if (!stored) throw new Error('no credential');
  return {
    response: await authenticator.getAssertion({ challenge: CHALLENGE, rpId: RP_ID }, { origin: ORIGIN }),
    expectedChallenge: CHALLENGE,
    expectedOrigin: ORIGIN,
    expectedRPID: RP_ID,
    requireUserVerification: false,
    credential: { id: stored.id, publicKey: Uint8Array.from(stored.publicKey), counter: 0 },
  };
}

for (const algorithm of ['ES256', 'RS256', 'Ed25519'] as const) {
  describe(`verify one ${algorithm} assertion`, async () => {
    const options = await assertion(algorithm);
    const verifier = createAssertionVerifier();
    await verifier.verify(options);
    bench('verifyAuthenticationResponse', async () => {
      await verifyAuthenticationResponse(options);
    });
    bench('fast path (createAssertionVerifier)', async () => {
      await verifier.verify(options);
    });
  });
}
