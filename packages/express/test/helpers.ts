import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import {
  createMemoryStores,
  createPassgate,
  type Passgate,
  type PassgateOptions,
  silentLogger,
} from '@passgate/core';
import { SoftwareAuthenticator } from '@passgate/testing';
import {
  type ContractClient,
  signIn as contractSignIn,
  signUp as contractSignUp,
  ORIGIN,
  RP_ID,
  uniqueUsername,
} from '@passgate/testing/contract';
import type { Express } from 'express';

export { ContractClient, ORIGIN } from '@passgate/testing/contract';

export const SESSION_SECRET = 'express-adapter-test-secret-not-for-production';

/** Listens on 127.0.0.1:0; `close` also drops idle keep-alive connections so tests end promptly. */
export async function listen(app: Express): Promise<{ url: string; close(): Promise<void> }> {
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

export function makePassgate(overrides: Partial<PassgateOptions> = {}): Passgate {
  return createPassgate({
    rp: { name: 'Express adapter tests', id: RP_ID, origins: [ORIGIN] },
    stores: createMemoryStores(),
    secret: 'express-adapter-tests-secret-0123456789',
    logger: silentLogger,
    rateLimits: { perIp: false, accountFailures: false },
    ...overrides,
  });
}

/** Sign-up through the router (the testing kit's flow, which asserts its 200s). */
export async function signUp(
  client: ContractClient,
  authenticator = new SoftwareAuthenticator(),
): Promise<{ authenticator: SoftwareAuthenticator; body: any; status: number }> {
  const { answer } = await contractSignUp(client, { authenticator, username: uniqueUsername('express') });
  return { authenticator, body: answer.body, status: answer.status };
}

/** Usernameless sign-in through the router. */
export const signIn = (client: ContractClient, authenticator: SoftwareAuthenticator) =>
  contractSignIn(client, authenticator);
