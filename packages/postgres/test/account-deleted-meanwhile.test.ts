import { createPassgate, isPassgateError, type PasskeySession, silentLogger } from '@passgate/core';
import { SoftwareAuthenticator } from '@passgate/testing';
import { describe, expect, it } from 'vitest';
import { migratedSchemaForFile } from './helpers.js';

/**
 * An account deleted while one of its passkeys is being added. PostgreSQL's foreign key refuses the
 * orphan credential; that refusal must answer as the signed-out user it means (401), not as a store
 * fault (500).
 */
const { stores } = migratedSchemaForFile('account_deleted');
const ORIGIN = 'https://example.test';

describe('an account deleted while a passkey is added to it', () => {
  it('the foreign key refuses the credential: 401 unauthenticated, nothing stored', async () => {
    const passgate = createPassgate({
      rp: { name: 'account deleted', id: 'example.test', origins: [ORIGIN] },
      stores,
      secret: 'account-deleted-test-secret-0123456789',
      logger: silentLogger,
      rateLimits: { perIp: false, accountFailures: false },
    });
    const signUp = await passgate.startRegistration({ session: null, username: 'alice' });
    const first = await passgate.finishRegistration({
      ceremonyId: signUp.ceremonyId,
      response: (await new SoftwareAuthenticator().createCredential(signUp.options, {
        origin: ORIGIN,
      })) as never,
      session: null,
    });
    const session = first.session as PasskeySession;
    const add = await passgate.startRegistration({ session });
    const response = await new SoftwareAuthenticator().createCredential(add.options, { origin: ORIGIN });
    // The deletion lands between the ceremony's checks and the create.
    const create = stores.credentials.create.bind(stores.credentials);
    stores.credentials.create = async (credential, options) => {
      await stores.accounts.delete(credential.userHandle);
      return create(credential, options);
    };
    let error: unknown;
    try {
      await passgate.finishRegistration({ ceremonyId: add.ceremonyId, response: response as never, session });
    } catch (caught) {
      error = caught;
    }
    expect(isPassgateError(error) && { code: error.code, status: error.status }).toEqual({
      code: 'unauthenticated',
      status: 401,
    });
    expect(await stores.credentials.findById(response.id)).toBeNull();
  });
});
