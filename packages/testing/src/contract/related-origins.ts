import type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import { expect, it } from 'vitest';
import { SoftwareAuthenticator } from '../authenticator/index.js';
import { RP_ID } from './client.js';
import { expectError, uniqueUsername } from './flows.js';
import type { Harness } from './harness.js';

/** The related origins the suite's related-origins group configures, in this order. */
export const RELATED_ORIGINS = ['https://shop.example.co.uk', 'https://example-login.com'];
const WELL_KNOWN = '/.well-known/webauthn';

/** `GET /.well-known/webauthn` and related origins at work (the group configures `RELATED_ORIGINS`). */
export function relatedOriginTests(h: Harness): void {
  it('GET /.well-known/webauthn at the site root lists exactly the related origins, in order', async () => {
    const answer = await h.client().request('GET', WELL_KNOWN);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(answer.body).toEqual({ origins: RELATED_ORIGINS });
  });

  it('a related origin signs up and signs in (Origin header and client data), with the RP ID explicit', async () => {
    const origin = RELATED_ORIGINS[1] as string;
    const client = h.client();
    const authenticator = new SoftwareAuthenticator();
    const started = await client.post('/register/options', { username: uniqueUsername() }, { origin });
    expect(started.status, started.text).toBe(200);
    const creation = started.body as PublicKeyCredentialCreationOptionsJSON;
    expect(creation.rp.id).toBe(RP_ID);
    const created = await client.post(
      '/register/verify',
      await authenticator.createCredential(creation, { origin }),
      {
        origin,
      },
    );
    expect(created.status, created.text).toBe(200);

    const login = await client.post('/login/options', {}, { origin });
    expect(login.status, login.text).toBe(200);
    const request = login.body as PublicKeyCredentialRequestOptionsJSON;
    expect(request.rpId).toBe(RP_ID);
    const assertion = await authenticator.getAssertion(request, { origin });
    const signedIn = await client.post('/login/verify', assertion, { origin });
    expect(signedIn.status, signedIn.text).toBe(200);
  });

  it('an origin that is neither own nor related is still refused, in the header and in client data', async () => {
    const stranger = 'https://example-login.net';
    expectError(await h.client().post('/login/options', {}, { origin: stranger }), 403, 'forbidden_origin');
    const client = h.client();
    const started = await client.post('/register/options', { username: uniqueUsername() });
    const response = await new SoftwareAuthenticator().createCredential(started.body, { origin: stranger });
    expectError(await client.post('/register/verify', response), 400, 'verification_failed');
  });
}

/** Without related origins the well-known is not served (404), and those origins are foreign. */
export function noRelatedOriginTests(h: Harness): void {
  it('GET /.well-known/webauthn is 404 without related origins', async () => {
    expect((await h.client().request('GET', WELL_KNOWN)).status).toBe(404);
  });

  it('an origin that would be related is 403 forbidden_origin when not configured', async () => {
    const origin = RELATED_ORIGINS[0] as string;
    expectError(await h.client().post('/login/options', {}, { origin }), 403, 'forbidden_origin');
  });
}
