import type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import { expect } from 'vitest';
import {
  type AuthenticationContext,
  type RegistrationContext,
  SoftwareAuthenticator,
} from '../authenticator/index.js';
import { type Answer, CEREMONY_COOKIE, type ContractClient } from './client.js';

let counter = 0;
/** A fresh username per call (tests share one app per group). */
export function uniqueUsername(label = 'user'): string {
  counter += 1;
  return `${label}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

export function expectError(answer: Answer, status: number, code: string): void {
  expect({ status: answer.status, code: answer.body?.error?.code }).toEqual({ status, code });
}

/** The session cookies of the jar: every cookie but the ceremony one (express-session's `connect.sid`). */
export function sessionCookies(client: ContractClient): string {
  return [...client.jar]
    .filter(([name]) => name !== CEREMONY_COOKIE)
    .map(([name, value]) => `${name}=${value}`)
    .join('; ');
}

export interface SignedUp {
  client: ContractClient;
  authenticator: SoftwareAuthenticator;
  username: string;
  answer: Answer;
  options: PublicKeyCredentialCreationOptionsJSON;
  credentialId: string;
  userId: string;
}

export async function registerOptions(client: ContractClient, body: unknown): Promise<Answer> {
  return client.post('/register/options', body);
}

/** A whole sign-up: options, the authenticator, verify. Asserts the 200s. */
export async function signUp(
  client: ContractClient,
  options: {
    username?: string;
    authenticator?: SoftwareAuthenticator;
    overrides?: Partial<RegistrationContext>;
    nickname?: string;
  } = {},
): Promise<SignedUp> {
  const username = options.username ?? uniqueUsername();
  const authenticator = options.authenticator ?? new SoftwareAuthenticator();
  const started = await client.post('/register/options', { username });
  expect(started.status, started.text).toBe(200);
  const creation = started.body as PublicKeyCredentialCreationOptionsJSON;
  const response = await authenticator.createCredential(creation, {
    origin: client.origin,
    ...options.overrides,
  });
  const answer = await client.post('/register/verify', {
    ...response,
    ...(options.nickname !== undefined ? { nickname: options.nickname } : {}),
  });
  expect(answer.status, answer.text).toBe(200);
  return {
    client,
    authenticator,
    username,
    answer,
    options: creation,
    credentialId: response.id,
    userId: answer.body.user.id,
  };
}

/** Sign-in: username-first when `username` is given, usernameless otherwise. Returns the verify answer. */
export async function signIn(
  client: ContractClient,
  authenticator: SoftwareAuthenticator,
  options: { username?: string; overrides?: Partial<AuthenticationContext> } = {},
): Promise<Answer> {
  const started = await client.post(
    '/login/options',
    options.username !== undefined ? { username: options.username } : {},
  );
  expect(started.status, started.text).toBe(200);
  const assertion = await authenticator.getAssertion(started.body as PublicKeyCredentialRequestOptionsJSON, {
    origin: client.origin,
    ...options.overrides,
  });
  return client.post('/login/verify', assertion);
}

/** Login options and a signed assertion, not yet sent. */
export async function prepareSignIn(
  client: ContractClient,
  authenticator: SoftwareAuthenticator,
  overrides: Partial<AuthenticationContext> = {},
): Promise<{ options: PublicKeyCredentialRequestOptionsJSON; assertion: unknown }> {
  const started = await client.post('/login/options', {});
  expect(started.status, started.text).toBe(200);
  const options = started.body as PublicKeyCredentialRequestOptionsJSON;
  const assertion = await authenticator.getAssertion(options, { origin: client.origin, ...overrides });
  return { options, assertion };
}
