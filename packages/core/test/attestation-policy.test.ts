import type { PolicyOptions } from '@passgate/core';
import { SoftwareAuthenticator } from '@passgate/testing';
import { SettingsService } from '@simplewebauthn/server';
import { describe, expect, it } from 'vitest';
import {
  ceremonyOfVector,
  failure,
  loadVectors,
  makePassgate,
  registrationAttempt,
  storesRewritingCeremonies,
  TEST_ROOT_PEM,
} from './helpers.js';

/**
 * `direct` attestation: certificate chains must chain to the configured roots (the library skips the
 * chain check for formats it has no roots for), and the policy is the one stored with the ceremony.
 * The W3C vectors' packed statements chain to the spec's own test root.
 */
const vector = (label: string) => {
  const v = loadVectors().vectors.find((x) => x.label === label);
  if (!v) throw new Error(`no vector ${label}`);
  return v;
};

function vectorRegistration(label: string, attestation: PolicyOptions['attestation']) {
  const v = vector(label);
  const stores = storesRewritingCeremonies(ceremonyOfVector(v));
  const h = makePassgate({
    stores,
    rp: { id: 'example.org', origins: ['https://example.org'] },
    policy: { attestation },
  });
  return {
    h,
    async finish() {
      const start = await h.passgate.startRegistration({ session: null, username: label });
      return h.passgate.finishRegistration({
        ceremonyId: start.ceremonyId,
        response: {
          id: v.registration.credentialId,
          rawId: v.registration.credentialId,
          type: 'public-key',
          response: {
            clientDataJSON: v.registration.clientDataJSON,
            attestationObject: v.registration.attestationObject,
          },
          clientExtensionResults: {},
        },
        session: null,
      });
    },
  };
}

describe('direct attestation with certificate chains', () => {
  it('accepts a packed chain that ends at a configured root', async () => {
    const run = vectorRegistration('packed.ES256', {
      conveyance: 'direct',
      rootCertificates: { packed: [TEST_ROOT_PEM] },
    });
    const result = await run.finish();
    expect(result.credential.id).toBe(vector('packed.ES256').registration.credentialId);
  });

  it('rejects a packed chain that does not end at a configured root', async () => {
    const foreign = SettingsService.getRootCertificates({ identifier: 'apple' });
    expect(foreign.length).toBeGreaterThan(0);
    const run = vectorRegistration('packed.ES256', {
      conveyance: 'direct',
      rootCertificates: { packed: foreign },
    });
    expect(await failure(run.finish())).toMatchObject({
      code: 'verification_failed',
      reason: 'attestation_not_trusted',
    });
  });

  it('rejects a chain of a format that has no configured roots', async () => {
    const run = vectorRegistration('packed.ES256', {
      conveyance: 'direct',
      rootCertificates: { tpm: [TEST_ROOT_PEM] },
    });
    expect(await failure(run.finish())).toMatchObject({
      code: 'verification_failed',
      reason: 'attestation_not_trusted',
    });
  });

  it('rejects packed self attestation unless allowed, even with roots configured', async () => {
    const run = vectorRegistration('packed-self.ES256', {
      conveyance: 'direct',
      rootCertificates: { packed: [TEST_ROOT_PEM] },
    });
    expect(await failure(run.finish())).toMatchObject({
      code: 'verification_failed',
      reason: 'attestation_not_trusted',
    });
  });

  it('accepts packed self attestation when allowed', async () => {
    const run = vectorRegistration('packed-self.ES256', { conveyance: 'direct', allowSelfAttestation: true });
    await expect(run.finish()).resolves.toMatchObject({ credential: { id: expect.any(String) } });
  });

  it('under `none`, a chain that ends nowhere is not judged', async () => {
    const foreign = SettingsService.getRootCertificates({ identifier: 'apple' });
    const run = vectorRegistration('packed.ES256', { conveyance: 'none' });
    expect(foreign.length).toBeGreaterThan(0);
    await expect(run.finish()).resolves.toMatchObject({ credential: { id: expect.any(String) } });
  });
});

describe('the attestation policy comes from the stored ceremony', () => {
  it('a ceremony started under `direct` is judged under `direct` by an instance configured with `none`', async () => {
    const strict = makePassgate({
      policy: { attestation: { conveyance: 'direct', allowSelfAttestation: true } },
    });
    const lax = makePassgate({}, { stores: strict.stores, clock: strict.clock });
    const attempt = await registrationAttempt(strict, new SoftwareAuthenticator({ attestation: 'none' }), {
      finishOn: lax,
    });
    expect(await failure(attempt.finish())).toMatchObject({
      code: 'verification_failed',
      reason: 'attestation_required',
    });
  });

  it('a ceremony started under `none` is not judged under `direct` by a strict instance', async () => {
    const lax = makePassgate({});
    const strict = makePassgate(
      { policy: { attestation: { conveyance: 'direct', allowSelfAttestation: true } } },
      { stores: lax.stores, clock: lax.clock },
    );
    const attempt = await registrationAttempt(lax, new SoftwareAuthenticator({ attestation: 'none' }), {
      finishOn: strict,
    });
    await expect(attempt.finish()).resolves.toMatchObject({ credential: { id: expect.any(String) } });
  });
});
