import { randomBytes, webcrypto } from 'node:crypto';
import {
  type MetadataEntry,
  MetadataService,
  type PassgateLogger,
  REFUSED_STATUSES,
  type TrustOptions,
  verifyMetadataBlob,
} from '@passgate/core';
import { SoftwareAuthenticator } from '@passgate/testing';
import * as x509 from '@peculiar/x509';
import { describe, expect, it } from 'vitest';
import {
  ceremonyOfVector,
  eventsNamed,
  failure,
  loadVectors,
  makePassgate,
  registrationAttempt,
  START,
  storesRewritingCeremonies,
  TEST_ROOT_PEM,
} from './helpers.js';

/**
 * FIDO MDS3: BLOBs made and signed here by a test PKI (root → intermediate → signer), never fetched.
 * The Passgate clock is 2030-01-01 (START); BLOBs are due a year later unless a test says otherwise.
 */
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const NOW = new Date(START);
const NEXT_YEAR = '2031-01-01';

interface Issued {
  cert: x509.X509Certificate;
  keys: webcrypto.CryptoKeyPair;
}

async function issue(
  name: string,
  issuer: Issued | null,
  options: { ca: boolean; notAfter?: Date },
): Promise<Issued> {
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const common = {
    serialNumber: randomBytes(8).toString('hex'),
    notBefore: new Date('2024-01-01T00:00:00Z'),
    notAfter: options.notAfter ?? new Date('2040-01-01T00:00:00Z'),
    signingAlgorithm: EC,
    extensions: [new x509.BasicConstraintsExtension(options.ca, undefined, true)],
  };
  const cert = issuer
    ? await x509.X509CertificateGenerator.create({
        ...common,
        subject: `CN=${name}`,
        issuer: issuer.cert.subject,
        publicKey: keys.publicKey,
        signingKey: issuer.keys.privateKey,
      })
    : await x509.X509CertificateGenerator.createSelfSigned({ ...common, name: `CN=${name}`, keys });
  return { cert, keys };
}

async function makePki(signerNotAfter?: Date) {
  const root = await issue('Test MDS root', null, { ca: true });
  const intermediate = await issue('Test MDS CA', root, { ca: true });
  const signer = await issue('Test MDS signer', intermediate, {
    ca: false,
    ...(signerNotAfter ? { notAfter: signerNotAfter } : {}),
  });
  return { root, intermediate, signer, rootPem: root.cert.toString('pem') };
}
type Pki = Awaited<ReturnType<typeof makePki>>;

const b64url = (value: string | Uint8Array) => Buffer.from(value).toString('base64url');

async function makeBlob(pki: Pki, payload: { no: number; nextUpdate?: string; entries: MetadataEntry[] }) {
  const header = {
    alg: 'ES256',
    typ: 'JWT',
    x5c: [pki.signer.cert, pki.intermediate.cert].map((c) => Buffer.from(c.rawData).toString('base64')),
  };
  const signed = `${b64url(JSON.stringify(header))}.${b64url(
    JSON.stringify({ legalHeader: 'test', nextUpdate: NEXT_YEAR, ...payload }),
  )}`;
  const signature = await webcrypto.subtle.sign(
    { name: 'ECDSA', hash: 'SHA-256' },
    pki.signer.keys.privateKey,
    Buffer.from(signed),
  );
  return `${signed}.${b64url(new Uint8Array(signature))}`;
}

const entry = (aaguid: string, statuses: string[], roots: string[] = []): MetadataEntry => ({
  aaguid,
  metadataStatement: {
    description: `Authenticator ${aaguid.slice(0, 4)}`,
    attestationRootCertificates: roots,
  },
  statusReports: statuses.map((status) => ({ status, effectiveDate: '2025-01-01' })),
  timeOfLastStatusChange: '2025-01-01',
});

function recordingLogger() {
  const warnings: { message: string; fields: Record<string, unknown> | undefined }[] = [];
  const logger: PassgateLogger = {
    debug() {},
    info() {},
    error() {},
    warn: (message, fields) => warnings.push({ message, fields }),
  };
  return { logger, warnings };
}

/** A service over a BLOB the test swaps at will. */
function serviceFor(pki: Pki, first: string) {
  const source = { current: first as string | Promise<string> };
  const { logger, warnings } = recordingLogger();
  const service = new MetadataService({
    source: { load: async () => source.current },
    roots: [pki.rootPem],
    logger,
    now: () => NOW.getTime(),
  });
  return { service, source, warnings };
}

const SOFT_AAGUID = '70617373-6761-7465-2d74-657374000001';

describe('verifyMetadataBlob', () => {
  it('accepts a BLOB signed under the root, with its entries by AAGUID in lower case', async () => {
    const pki = await makePki();
    const blob = verifyMetadataBlob(
      await makeBlob(pki, { no: 7, entries: [entry(SOFT_AAGUID.toUpperCase(), ['FIDO_CERTIFIED_L1'])] }),
      [pki.rootPem],
      NOW,
    );
    expect(blob.no).toBe(7);
    expect(blob.nextUpdate.toISOString()).toBe('2031-01-01T00:00:00.000Z');
    expect(blob.entries.get(SOFT_AAGUID)?.statusReports[0]?.status).toBe('FIDO_CERTIFIED_L1');
  });

  it('refuses a bad signature, an expired BLOB, an unknown root, an expired signer and garbage', async () => {
    const pki = await makePki();
    const good = await makeBlob(pki, { no: 1, entries: [] });
    const [h, p, s] = good.split('.') as [string, string, string];
    const tampered = `${h}.${b64url(JSON.stringify({ no: 99, nextUpdate: NEXT_YEAR, entries: [] }))}.${s}`;
    const reason = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        return (error as { reason?: string }).reason;
      }
      return 'accepted';
    };
    expect(reason(() => verifyMetadataBlob(good, [pki.rootPem], NOW))).toBe('accepted');
    expect(reason(() => verifyMetadataBlob(tampered, [pki.rootPem], NOW))).toBe('signature_invalid');
    expect(reason(() => verifyMetadataBlob(`${h}.${p}.${b64url(randomBytes(64))}`, [pki.rootPem], NOW))).toBe(
      'signature_invalid',
    );
    const expired = await makeBlob(pki, { no: 2, nextUpdate: '2029-12-31', entries: [] });
    expect(reason(() => verifyMetadataBlob(expired, [pki.rootPem], NOW))).toBe('expired');
    const other = await makePki();
    expect(reason(() => verifyMetadataBlob(good, [other.rootPem], NOW))).toBe('unknown_root');
    const lapsed = await makePki(new Date('2029-06-01T00:00:00Z'));
    const lapsedBlob = await makeBlob(lapsed, { no: 1, entries: [] });
    expect(reason(() => verifyMetadataBlob(lapsedBlob, [lapsed.rootPem], NOW))).toBe('certificate_expired');
    // The signer's certificate is not a CA: a chain that skips the intermediate does not verify.
    const skipped = JSON.parse(Buffer.from(h, 'base64url').toString());
    skipped.x5c = [skipped.x5c[0]];
    expect(
      reason(() => verifyMetadataBlob(`${b64url(JSON.stringify(skipped))}.${p}.${s}`, [pki.rootPem], NOW)),
    ).toBe('unknown_root');
    expect(reason(() => verifyMetadataBlob('not.a.jwt!', [pki.rootPem], NOW))).toBe('malformed');
    const none = `${b64url(JSON.stringify({ alg: 'none' }))}.${p}.`;
    expect(reason(() => verifyMetadataBlob(none, [pki.rootPem], NOW))).toBe('unsupported_algorithm');
  });
});

describe('MetadataService', () => {
  it('keeps the last good copy when a refresh fails, logs it, and takes only newer BLOBs', async () => {
    const pki = await makePki();
    const { service, source, warnings } = serviceFor(
      pki,
      await makeBlob(pki, { no: 1, entries: [entry(SOFT_AAGUID, ['FIDO_CERTIFIED'])] }),
    );
    expect(await service.refresh()).toBe(true);
    expect(service.status()).toMatchObject({ loaded: true, no: 1, stale: false });

    const [h, , s] = (await makeBlob(pki, { no: 2, entries: [] })).split('.');
    source.current = `${h}.${b64url(JSON.stringify({ no: 2, nextUpdate: NEXT_YEAR, entries: [] }))}.${s}`;
    expect(await service.refresh()).toBe(false);
    source.current = Promise.reject(new Error('ECONNREFUSED'));
    expect(await service.refresh()).toBe(false);
    expect(service.status().no).toBe(1);
    expect(service.entry(SOFT_AAGUID)).not.toBeNull();
    expect(warnings.map((w) => w.fields?.['reason'])).toEqual(['signature_invalid', 'unreadable']);

    source.current = await makeBlob(pki, { no: 3, entries: [] });
    expect(await service.refresh()).toBe(true);
    expect(service.status().no).toBe(3);
    expect(service.entry(SOFT_AAGUID)).toBeNull();
    // An older BLOB (a replay) is ignored.
    source.current = await makeBlob(pki, { no: 2, entries: [entry(SOFT_AAGUID, ['REVOKED'])] });
    await service.refresh();
    expect(service.status().no).toBe(3);
  });

  it('loads from a file, and a ceremony never waits for a refresh in flight', async () => {
    const pki = await makePki();
    const { service, source } = serviceFor(
      pki,
      await makeBlob(pki, { no: 1, entries: [entry(SOFT_AAGUID, ['REVOKED'])] }),
    );
    await service.refresh();
    source.current = new Promise<string>(() => {}); // a network that never answers
    const pending = service.refresh();
    const h = makePassgate({ policy: { trust: { metadata: service } } });
    const attempt = await registrationAttempt(h, new SoftwareAuthenticator());
    expect(await failure(attempt.finish())).toMatchObject({ reason: 'authenticator_status_refused' });
    expect(await Promise.race([pending.then(() => 'done'), Promise.resolve('pending')])).toBe('pending');

    const { writeFile, mkdtemp } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const file = join(await mkdtemp(join(tmpdir(), 'passgate-mds-')), 'blob.jwt');
    await writeFile(file, await makeBlob(pki, { no: 4, entries: [] }));
    const fromFile = new MetadataService({
      source: { file },
      roots: [pki.rootPem],
      now: () => NOW.getTime(),
    });
    expect(await fromFile.start()).toBe(true);
    fromFile.stop();
    expect(fromFile.status().no).toBe(4);
  });
});

describe('trust policy at registration', () => {
  async function withStatuses(statuses: string[], trust: Omit<TrustOptions, 'metadata'> = {}) {
    const pki = await makePki();
    const { service } = serviceFor(
      pki,
      await makeBlob(pki, { no: 1, entries: [entry(SOFT_AAGUID, statuses)] }),
    );
    await service.refresh();
    return makePassgate({ policy: { trust: { metadata: service, ...trust } } });
  }

  it.each(REFUSED_STATUSES)(
    'refuses a model whose status reports include %s (reason in the event only)',
    async (status) => {
      const h = await withStatuses(['FIDO_CERTIFIED_L1', status]);
      const error = await failure((await registrationAttempt(h, new SoftwareAuthenticator())).finish());
      expect(error).toMatchObject({ code: 'verification_failed', reason: 'authenticator_status_refused' });
      expect(error.message).not.toMatch(/status|REVOKED|COMPROMISE|BYPASS/i);
      expect(eventsNamed(h, 'verification_failed').at(-1)).toMatchObject({
        reason: 'authenticator_status_refused',
      });
    },
  );

  it('accepts models whose statuses are fine, or that MDS does not know, unless attestation is required', async () => {
    for (const statuses of [['FIDO_CERTIFIED_L2'], ['UPDATE_AVAILABLE'], ['SELF_ASSERTION_SUBMITTED']]) {
      const h = await withStatuses(statuses);
      await expect(
        (await registrationAttempt(h, new SoftwareAuthenticator())).finish(),
      ).resolves.toBeDefined();
    }
    const h = await withStatuses(['FIDO_CERTIFIED'], { refuseStatuses: ['FIDO_CERTIFIED'] });
    expect(await failure((await registrationAttempt(h, new SoftwareAuthenticator())).finish())).toMatchObject(
      {
        reason: 'authenticator_status_refused',
      },
    );
    const unknown = await withStatuses(['REVOKED']);
    const other = new SoftwareAuthenticator({ aaguid: '11111111-2222-3333-4444-555555555555' });
    await expect((await registrationAttempt(unknown, other)).finish()).resolves.toBeDefined();
  });

  it('requireAttested refuses unattested and unknown authenticators, and self attestation', async () => {
    const h = await withStatuses(['FIDO_CERTIFIED_L1'], { requireAttested: true });
    const attempt = await registrationAttempt(h, new SoftwareAuthenticator());
    expect(attempt.start.options.attestation).toBe('direct');
    expect(await failure(attempt.finish())).toMatchObject({ reason: 'attestation_required' });
    const self = await registrationAttempt(h, new SoftwareAuthenticator({ attestation: 'packed' }), {
      username: 'b',
    });
    expect(await failure(self.finish())).toMatchObject({ reason: 'attestation_required' });
    const other = new SoftwareAuthenticator({ aaguid: '11111111-2222-3333-4444-555555555555' });
    const unknown = await registrationAttempt(h, other, { username: 'c' });
    expect(await failure(unknown.finish())).toMatchObject({ reason: 'authenticator_not_in_metadata' });
  });

  it('device-bound per account through the hook, decided when the options are made', async () => {
    const admins = new Set(['admin']);
    const h = await withStatuses([], { deviceBoundOnly: ({ username }) => admins.has(username) });
    const synced = () => new SoftwareAuthenticator({ backupEligible: true, backedUp: true });
    const admin = await registrationAttempt(h, synced(), { username: 'admin' });
    admins.clear(); // a change after the options were made does not apply to this ceremony
    expect(await failure(admin.finish())).toMatchObject({ reason: 'device_bound_required' });
    await expect(
      (await registrationAttempt(h, synced(), { username: 'bob' })).finish(),
    ).resolves.toBeDefined();
    admins.add('carol');
    const bound = await registrationAttempt(h, new SoftwareAuthenticator({ backupEligible: false }), {
      username: 'carol',
    });
    await expect(bound.finish()).resolves.toBeDefined();
  });

  it('is checked at start: attested-only and certification levels need metadata and attestation', () => {
    const service = new MetadataService({ source: { load: async () => '' } });
    expect(() => makePassgate({ policy: { trust: { requireAttested: true } } })).toThrow(
      /need a metadata service/,
    );
    expect(() =>
      makePassgate({ policy: { trust: { metadata: service, minCertificationLevel: 'FIDO_CERTIFIED_L2' } } }),
    ).toThrow(/needs requireAttested/);
    expect(() =>
      makePassgate({
        policy: { trust: { metadata: service, requireAttested: true, minCertificationLevel: 'L9' as never } },
      }),
    ).toThrow(/minCertificationLevel must be one of/);
  });
});

describe('attested authenticators (the W3C packed vector, chaining to its test root)', () => {
  const vector = loadVectors().vectors.find((v) => v.label === 'packed.ES256');
  if (!vector) throw new Error('no packed.ES256 vector');
  const VECTOR_AAGUID = '876ca4f5-2071-c3e9-b255-09ef2cdf7ed6';
  const rootBase64 = TEST_ROOT_PEM.replace(/-----[^-]+-----|\s/g, '');

  async function finishVector(statement: MetadataEntry | null, trust: Omit<TrustOptions, 'metadata'>) {
    const pki = await makePki();
    const { service } = serviceFor(
      pki,
      await makeBlob(pki, { no: 1, entries: statement ? [statement] : [] }),
    );
    await service.refresh();
    const stores = storesRewritingCeremonies(ceremonyOfVector(vector as NonNullable<typeof vector>));
    const h = makePassgate({
      stores,
      rp: { id: 'example.org', origins: ['https://example.org'] },
      policy: { trust: { metadata: service, ...trust } },
    });
    const start = await h.passgate.startRegistration({ session: null, username: 'attested' });
    const { registration } = vector as NonNullable<typeof vector>;
    return h.passgate.finishRegistration({
      ceremonyId: start.ceremonyId,
      response: {
        id: registration.credentialId,
        rawId: registration.credentialId,
        type: 'public-key',
        response: {
          clientDataJSON: registration.clientDataJSON,
          attestationObject: registration.attestationObject,
        },
        clientExtensionResults: {},
      },
      session: null,
    });
  }

  it('accepts a statement chaining to the root its MDS entry lists, at the required level', async () => {
    const result = await finishVector(entry(VECTOR_AAGUID, ['FIDO_CERTIFIED_L2'], [rootBase64]), {
      requireAttested: true,
      minCertificationLevel: 'FIDO_CERTIFIED_L2',
    });
    expect(result.credential.aaguid).toBe(VECTOR_AAGUID);
  });

  it('refuses it when the entry lists another root, below the level, or revoked', async () => {
    const other = (await makePki()).root.cert.toString('base64');
    expect(
      await failure(
        finishVector(entry(VECTOR_AAGUID, ['FIDO_CERTIFIED_L2'], [other]), { requireAttested: true }),
      ),
    ).toMatchObject({ reason: 'attestation_not_trusted' });
    expect(
      await failure(
        finishVector(entry(VECTOR_AAGUID, ['FIDO_CERTIFIED_L1'], [rootBase64]), {
          requireAttested: true,
          minCertificationLevel: 'FIDO_CERTIFIED_L2',
        }),
      ),
    ).toMatchObject({ reason: 'certification_level_too_low' });
    expect(
      await failure(
        finishVector(entry(VECTOR_AAGUID, ['FIDO_CERTIFIED_L3', 'REVOKED'], [rootBase64]), {
          requireAttested: true,
        }),
      ),
    ).toMatchObject({ reason: 'authenticator_status_refused' });
    expect(await failure(finishVector(null, { requireAttested: true }))).toMatchObject({
      reason: 'authenticator_not_in_metadata',
    });
  });
});
