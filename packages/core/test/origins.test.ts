import {
  androidAppOrigin,
  appleAppSiteAssociation,
  assertRelatedOrigins,
  assetLinks,
  MAX_RELATED_ORIGIN_LABELS,
  type RequestContext,
  relatedOriginLabel,
} from '@passgate/core';
import { SoftwareAuthenticator } from '@passgate/testing';
import { describe, expect, it } from 'vitest';
import { asAuthentication, asRegistration, failure, makePassgate, ORIGIN } from './helpers.js';

const FINGERPRINT = Array.from({ length: 32 }, (_, i) =>
  (i * 7).toString(16).padStart(2, '0').toUpperCase(),
).join(':');
const APP_ORIGIN = androidAppOrigin(FINGERPRINT);

/** Registration through the core API with the response written for `origin`. */
async function registerFrom(
  h: ReturnType<typeof makePassgate>,
  origin: string,
  context: RequestContext = {},
) {
  const authenticator = new SoftwareAuthenticator();
  const start = await h.passgate.startRegistration({ session: null, username: `u${Math.random()}`, context });
  const response = asRegistration(await authenticator.createCredential(start.options, { origin }));
  const finish = () =>
    h.passgate.finishRegistration({ ceremonyId: start.ceremonyId, response, session: null });
  return { authenticator, start, finish };
}

describe('origin configuration is checked at start, naming the bad entry', () => {
  const make = (rp: Record<string, unknown>) => () => makePassgate({ rp });

  it('own origins: https, or http only on localhost; an origin, not a URL', () => {
    expect(make({ origins: ['http://app.example.com'] })).toThrow(
      /rp\.origins: "http:\/\/app\.example\.com" must be https/,
    );
    expect(make({ origins: ['https://app.example.com/login'] })).toThrow(
      /"https:\/\/app\.example\.com\/login" is not an origin/,
    );
    expect(make({ origins: [] })).toThrow(/at least one origin/);
    expect(
      make({ origins: ['http://localhost:3000', 'http://a.localhost:3000', 'http://127.0.0.1:8080'] }),
    ).not.toThrow();
    expect(make({ topOrigins: ['http://embedder.example.com'] })).toThrow(/rp\.topOrigins: .* must be https/);
  });

  it('related origins: https, each with a registrable domain, no duplicates', () => {
    expect(make({ relatedOrigins: ['http://example.co.uk'] })).toThrow(
      /rp\.relatedOrigins: "http:\/\/example\.co\.uk" must be https/,
    );
    expect(make({ relatedOrigins: ['https://192.0.2.1'] })).toThrow(
      /"https:\/\/192\.0\.2\.1" has no registrable domain/,
    );
    expect(make({ relatedOrigins: ['https://co.uk'] })).toThrow(
      /"https:\/\/co\.uk" has no registrable domain/,
    );
    expect(make({ relatedOrigins: ['https://example.com', 'https://example.com'] })).toThrow(/listed twice/);
    expect(make({ relatedOrigins: 'https://example.com' })).toThrow(/must be a list/);
  });

  it(`related origins: at most ${MAX_RELATED_ORIGIN_LABELS} registrable-domain labels, counted with the Public Suffix List`, () => {
    // One label, "example", across public suffixes and subdomains; the private section counts (github.io).
    expect(relatedOriginLabel('https://shop.example.co.uk')).toBe('example');
    expect(relatedOriginLabel('https://example.com:8443')).toBe('example');
    expect(relatedOriginLabel('https://alice.github.io')).toBe('alice');
    const five = ['https://a.com', 'https://b.com', 'https://c.com', 'https://d.com', 'https://e.com'];
    const sameLabels = ['https://a.co.uk', 'https://www.b.de', 'https://shop.c.com.au'];
    expect(() => assertRelatedOrigins([...five, ...sameLabels])).not.toThrow();
    expect(() => assertRelatedOrigins([...five, 'https://f.com'])).toThrow(
      /"https:\/\/f\.com" brings a 6th registrable-domain label \("f"\); browsers follow at most 5/,
    );
    expect(make({ relatedOrigins: [...five, 'https://www.a.net', 'https://f.org'] })).toThrow(
      /"https:\/\/f\.org"/,
    );
  });

  it('app origins: android:apk-key-hash with a base64url SHA-256, exactly', () => {
    expect(make({ appOrigins: [APP_ORIGIN] })).not.toThrow();
    expect(make({ appOrigins: ['android:apk-key-hash:*'] })).toThrow(
      /rp\.appOrigins: "android:apk-key-hash:\*"/,
    );
    expect(make({ appOrigins: ['ios:bundle-id:com.example.app'] })).toThrow(/not an app origin/);
  });

  it('per-request lists are checked when used: a bad one fails that request, not others', async () => {
    const h = makePassgate({
      rp: { relatedOrigins: (c: RequestContext) => (c.host === 'bad.test' ? ['http://x.example'] : []) },
    });
    expect(() => h.passgate.runtime.relatedOrigins({ host: 'bad.test' })).toThrow(/must be https/);
    expect(h.passgate.runtime.relatedOrigins({ host: 'good.test' })).toEqual([]);
  });
});

describe('related and app origins are accepted in client data; others are not', () => {
  const related = 'https://example-login.com';

  it('a related origin signs up and signs in', async () => {
    const h = makePassgate({ rp: { relatedOrigins: [related] } });
    const { authenticator, finish } = await registerFrom(h, related);
    await finish();
    const start = await h.passgate.startAuthentication({});
    const response = asAuthentication(await authenticator.getAssertion(start.options, { origin: related }));
    await expect(
      h.passgate.finishAuthentication({ ceremonyId: start.ceremonyId, response }),
    ).resolves.toBeDefined();
  });

  it('the same origin is refused when it is not configured', async () => {
    const h = makePassgate();
    const { finish } = await registerFrom(h, related);
    expect(await failure(finish())).toMatchObject({ code: 'verification_failed', reason: 'origin_mismatch' });
    expect(h.passgate.runtime.origins({})).toEqual([ORIGIN]);
  });

  it('a configured app origin is accepted exactly; another signing key is refused', async () => {
    const h = makePassgate({ rp: { appOrigins: [APP_ORIGIN] } });
    await (await registerFrom(h, APP_ORIGIN)).finish();
    const other = androidAppOrigin(FINGERPRINT.replace(/^..?/, 'FF'));
    expect(await failure((await registerFrom(h, other)).finish())).toMatchObject({
      reason: 'origin_mismatch',
    });
    const prefix = APP_ORIGIN.slice(0, -1);
    expect(await failure((await registerFrom(h, prefix)).finish())).toMatchObject({
      reason: 'origin_mismatch',
    });
  });
});

describe('multi-tenant by host: RP ID and origins per request', () => {
  const tenant = (c: RequestContext) => (c.host === 'b.example.net' ? 'b.example.net' : 'a.example.com');
  const rp = { id: tenant, origins: (c: RequestContext) => [`https://${tenant(c)}`] };
  const A = { host: 'a.example.com' };
  const B = { host: 'b.example.net' };

  it('a passkey made for one tenant is refused by another, even when the client forges the RP or origin', async () => {
    const h = makePassgate({ rp });
    const { authenticator, finish, start } = await registerFrom(h, 'https://a.example.com', A);
    expect(start.options.rp.id).toBe('a.example.com');
    await finish();

    // At its own tenant it works.
    const atA = await h.passgate.startAuthentication({ context: A });
    const ok = asAuthentication(
      await authenticator.getAssertion(atA.options, { origin: 'https://a.example.com' }),
    );
    await expect(
      h.passgate.finishAuthentication({ ceremonyId: atA.ceremonyId, response: ok }),
    ).resolves.toBeDefined();

    // Tenant B asks for its own RP: the authenticator has nothing for it (a browser offers nothing).
    const atB = await h.passgate.startAuthentication({ context: B });
    expect(atB.options.rpId).toBe('b.example.net');
    await expect(
      authenticator.getAssertion(atB.options, { origin: 'https://b.example.net' }),
    ).rejects.toThrow(/No discoverable credential/);
    // A client that answers tenant B's challenge with tenant A's passkey: refused on origin, and on RP ID.
    for (const [origin, reason] of [
      ['https://a.example.com', 'origin_mismatch'],
      ['https://b.example.net', 'rp_id_mismatch'],
    ] as const) {
      const again = await h.passgate.startAuthentication({ context: B });
      const forged = asAuthentication(
        await authenticator.getAssertion({ ...again.options, rpId: 'a.example.com' }, { origin }),
      );
      expect(
        await failure(h.passgate.finishAuthentication({ ceremonyId: again.ceremonyId, response: forged })),
      ).toMatchObject({ code: 'verification_failed', reason });
    }
  });

  it('the finishing request cannot move a ceremony to another tenant', async () => {
    const h = makePassgate({ rp });
    const { start } = await registerFrom(h, 'https://a.example.com', A);
    const response = asRegistration(
      await new SoftwareAuthenticator().createCredential(
        { ...start.options, rp: { ...start.options.rp, id: 'b.example.net' } },
        {
          origin: 'https://b.example.net',
        },
      ),
    );
    const finishing = h.passgate.finishRegistration({
      ceremonyId: start.ceremonyId,
      response,
      session: null,
      context: B,
    });
    expect(await failure(finishing)).toMatchObject({ code: 'verification_failed' });
  });
});

describe('files tying native apps to the site', () => {
  it('androidAppOrigin is the base64url SHA-256 of the signing certificate', () => {
    expect(APP_ORIGIN).toBe(
      `android:apk-key-hash:${Buffer.from(FINGERPRINT.replaceAll(':', ''), 'hex').toString('base64url')}`,
    );
    expect(() => androidAppOrigin('AB:CD')).toThrow(/not a SHA-256 certificate fingerprint/);
  });

  it('assetLinks grants get_login_creds to each app with its fingerprints', () => {
    expect(
      assetLinks([{ packageName: 'com.example.app', sha256CertFingerprints: [FINGERPRINT.toLowerCase()] }]),
    ).toEqual([
      {
        relation: [
          'delegate_permission/common.handle_all_urls',
          'delegate_permission/common.get_login_creds',
        ],
        target: {
          namespace: 'android_app',
          package_name: 'com.example.app',
          sha256_cert_fingerprints: [FINGERPRINT],
        },
      },
    ]);
    expect(() => assetLinks([{ packageName: 'nodots', sha256CertFingerprints: [FINGERPRINT] }])).toThrow(
      /"nodots"/,
    );
    expect(() => assetLinks([{ packageName: 'com.example.app', sha256CertFingerprints: [] }])).toThrow(
      /at least one/,
    );
  });

  it('appleAppSiteAssociation lists the apps under webcredentials', () => {
    expect(appleAppSiteAssociation(['ABCDE12345.com.example.app'])).toEqual({
      webcredentials: { apps: ['ABCDE12345.com.example.app'] },
    });
    expect(() => appleAppSiteAssociation(['com.example.app'])).toThrow(
      /"com\.example\.app" is not an Apple app id/,
    );
  });
});
