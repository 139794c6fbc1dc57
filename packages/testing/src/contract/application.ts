import { randomBytes } from 'node:crypto';
import type { IdentifiedUser, PasskeySession, UserView } from '@passgate/core';
import type { ContractClient } from './client.js';

/** The cookie of the simulated application's own sign-in (what passport or a JWT would be). */
export const APP_SESSION_COOKIE = 'app_session';

/** The request as `identify` sees it: only the headers are read. */
export interface IdentifyRequest {
  headers: Record<string, string | string[] | undefined>;
}

type Entry = IdentifiedUser | 'throws' | 'garbage';

/**
 * A tiny stand-in for an application that signs its users in itself (passwords, social sign-in):
 * `signInAs` gives a client an `app_session` cookie, and `identify` (which the app under test passes
 * to the integration) maps that cookie back to the user. `onPasskeySignIn` records what the
 * integration reports, as an app's hook calling `req.login` would receive it.
 */
export class SimulatedApplication {
  private readonly sessions = new Map<string, Entry>();
  readonly passkeySignIns: { user: UserView; session: PasskeySession }[] = [];

  constructor(private readonly now: () => number) {}

  /** Signs `client` in as the app's user (a password sign-in `agoMs` ago); returns the user. */
  signInAs(client: ContractClient, user: Omit<IdentifiedUser, 'authenticatedAt'>, agoMs = 0): IdentifiedUser {
    const identified: IdentifiedUser = { ...user, authenticatedAt: new Date(this.now() - agoMs) };
    this.setSession(client, identified);
    return identified;
  }

  /** The app's session for `client` makes `identify` throw, or answer something that is not a user. */
  breakIdentify(client: ContractClient, how: 'throws' | 'garbage'): void {
    this.setSession(client, how);
  }

  /** Ends the app's own session (the client keeps any Passgate session). */
  signOut(client: ContractClient): void {
    const token = client.jar.get(APP_SESSION_COOKIE);
    if (token !== undefined) this.sessions.delete(token);
    client.jar.delete(APP_SESSION_COOKIE);
  }

  /** A fresh random application user id and name. */
  static newUser(label = 'member'): { userId: string; name: string; displayName: string } {
    const id = randomBytes(6).toString('hex');
    return { userId: `app-${id}`, name: `${label}-${id}@example.test`, displayName: `${label} ${id}` };
  }

  readonly identify = (req: IdentifyRequest): IdentifiedUser | null => {
    const token = cookie(req.headers['cookie'], APP_SESSION_COOKIE);
    const entry = token === undefined ? undefined : this.sessions.get(token);
    if (entry === 'throws') throw new Error('the user directory is down (simulated)');
    // What a buggy app might answer; the integration must refuse it, not guess.
    if (entry === 'garbage') return { id: 42, user: 'not an IdentifiedUser' } as unknown as IdentifiedUser;
    return entry ?? null;
  };

  readonly onPasskeySignIn = (
    _req: unknown,
    _res: unknown,
    signIn: { user: UserView; session: PasskeySession },
  ): void => {
    this.passkeySignIns.push(signIn);
  };

  private setSession(client: ContractClient, entry: Entry): void {
    const token = randomBytes(16).toString('base64url');
    this.sessions.set(token, entry);
    client.jar.set(APP_SESSION_COOKIE, token);
  }
}

function cookie(header: string | string[] | undefined, name: string): string | undefined {
  const value = Array.isArray(header) ? header.join('; ') : header;
  for (const part of value?.split(';') ?? []) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}
