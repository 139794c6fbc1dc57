import {
  type AuthenticationResponseJSON,
  browserSupportsWebAuthn,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  startAuthentication,
  startRegistration,
  WebAuthnAbortService,
} from '@simplewebauthn/browser';
import { type BrowserCapabilities, getCapabilities, isAutofillAvailable } from './capabilities.js';
import { errorFromBrowser, isPasskeyError, PasskeyError } from './errors.js';
import { type HttpOptions, type Method, request } from './http.js';
import {
  signalAllAcceptedCredentials,
  signalCurrentUserDetails,
  signalUnknownCredential,
} from './signals.js';
import type { AccountSignal, Credential, Hint, PasskeyResult, Session } from './types.js';

/** Options of {@link createPasskeyClient}; every one has a default. */
export interface PasskeyClientOptions {
  /** Where the server mounted the Passgate routes. Default `/passkeys`. */
  prefix?: string;
  /**
   * The API's origin when it is not the page's own, e.g. `https://api.example.com` (then set
   * `credentials: 'include'` and allow the page's origin on the server). Default: the page's origin.
   */
  baseUrl?: string;
  /** The `fetch` to use (for tests, or to add headers). Default: the global `fetch`. */
  fetch?: typeof fetch;
  /**
   * Whether cookies go with each request. Default `same-origin`; `include` for an API on another
   * origin (the session and ceremony cookies must reach it).
   */
  credentials?: RequestCredentials;
  /**
   * Whether to call the browser's Signal API for the app (after `unknown_credential`, a passkey
   * the server refused to save, listing, deleting and renaming passkeys), so passkey providers
   * forget passkeys the server does not know and show current names. Default `true`. Signals never
   * throw, and are skipped where the browser lacks them.
   */
  signals?: boolean;
  /**
   * How long each request to the server waits for an answer before it is aborted and rejects with
   * `network`, in milliseconds. Default `30_000`. A sign-in whose `login/verify` never answers
   * would otherwise hold a prompt the app starts after it (the next ceremony waits for that answer).
   */
  timeoutMs?: number;
}

/** `upgradeToPasskey`'s result: a passkey was created, or why none was (never an error to show). */
export type UpgradeResult =
  | ({ upgraded: true } & PasskeyResult)
  | {
      upgraded: false;
      /**
       * `unsupported`: the browser cannot create passkeys without a prompt (no conditional create);
       * `declined`: the browser or password manager did not create one (the usual outcome when
       * the user did not just use a password manager); `already_registered`: this provider already
       * holds a passkey for the account.
       */
      reason: 'unsupported' | 'declined' | 'already_registered';
    };

/** A typed client for the Passgate HTTP contract. Every method rejects with a `PasskeyError` only. */
export interface PasskeyClient {
  /**
   * Creates an account with a passkey and signs it in (`register/options` then `register/verify`).
   * `displayName` defaults to the username on the server.
   */
  signUp(input: { username: string; displayName?: string; hints?: Hint[] }): Promise<PasskeyResult>;
  /**
   * Signs in with a passkey prompt. Without `username` the browser offers every passkey it has for
   * the site; with one, only that account's passkeys (what a security key without discoverable
   * credentials needs; add `hints: ['security-key']`). Aborts a pending `signInWithAutofill` first.
   */
  signIn(input?: { username?: string; hints?: Hint[] }): Promise<PasskeyResult>;
  /**
   * Offers the site's passkeys in the autofill of an `<input autocomplete="username webauthn">`
   * (conditional mediation) and resolves once the user picked one and is signed in. Start it when
   * the sign-in page loads. Rejects with `cancelled` when `signal` aborts it, when a modal ceremony
   * of this client replaces it, or when the browser gives up; with `unsupported` where autofill is
   * not available (check `isAutofillAvailable()` first); with `unknown_credential` when the server
   * does not know the picked passkey (the browser was told to forget it: start autofill again).
   * `onWaiting` is called once the server's options have arrived and the request to the browser has
   * been started (e.g. to show a hint next to the field). The browser gives no signal of the moment
   * it starts offering the passkeys, so that may come a little later, or not at all (no passkeys).
   *
   * Once the user has picked a passkey and the client has sent it to the server (`login/verify`),
   * stopping it (`signal`, a modal ceremony) is too late: the server may sign the user in whatever
   * the page does. The promise then never rejects `cancelled`: it settles with the server's answer
   * (signed in, or the server's error), and a modal ceremony started meanwhile waits for that
   * answer before it starts. So keep handling the promise after aborting: resolved means signed in.
   * Not chosen: aborting the verify request, or signing out again; neither can know whether the
   * server had already signed the user in, so the page could still disagree with it. A stop before
   * the client has the picked passkey still cancels, and nothing the browser returns after it is sent.
   */
  signInWithAutofill(input?: { signal?: AbortSignal; onWaiting?: () => void }): Promise<PasskeyResult>;
  /**
   * Adds a passkey to the signed-in account. May reject with `reauthentication_required` outside
   * the server's sensitive-action window: call the error's `reauthenticate()` to sign in again and
   * retry. `already_registered` means this authenticator already holds one of the account's passkeys.
   */
  addPasskey(input?: { nickname?: string; hints?: Hint[] }): Promise<PasskeyResult>;
  /**
   * Right after a password sign-in: asks the browser to create a passkey for the signed-in account
   * without a prompt (conditional create, `"mediation": "conditional"`), where the browser supports
   * it. Resolves `{ upgraded: false }` quietly when it does not, or when no passkey was made;
   * rejects only for server errors (e.g. `unauthenticated`). A browser may keep the request open
   * until its password manager decides: do not wait for it before navigating, and abort it with
   * `signal` when the page moves on (it then resolves `{ upgraded: false, reason: 'declined' }`).
   */
  upgradeToPasskey(input?: { nickname?: string; signal?: AbortSignal }): Promise<UpgradeResult>;
  /** Who is signed in, or `null` when nobody is. */
  getSession(): Promise<Session | null>;
  /** Ends the session on the server (the session cookie no longer signs anyone in). */
  signOut(): Promise<void>;
  /** The signed-in account's passkeys; signals the accepted passkeys and the user's details. */
  listPasskeys(): Promise<Credential[]>;
  /** Sets a passkey's nickname (1..64 characters); signals the user's current details. */
  renamePasskey(id: string, nickname: string): Promise<Credential>;
  /**
   * Deletes one of the account's passkeys and signals the passkeys still accepted, so the
   * provider can drop it. May reject with `reauthentication_required` (see `addPasskey`),
   * `last_credential`, `not_found`.
   */
  deletePasskey(id: string): Promise<void>;
  /** Whether this browser has WebAuthn at all. */
  isSupported(): boolean;
  /** Whether `signInWithAutofill` can run here. */
  isAutofillAvailable(): Promise<boolean>;
  /** The browser's WebAuthn capabilities (`getClientCapabilities`), each supported/unsupported/unknown. */
  getCapabilities(): Promise<BrowserCapabilities>;
}

interface VerifyAnswer {
  verified: true;
  user: PasskeyResult['user'];
  credential: Credential;
}

/** The autofill request in flight, so a modal ceremony can wait for its options and abort it. */
interface PendingAutofill {
  /** Set once it must neither start the browser request nor verify what it returns. */
  stopped: boolean;
  /** The browser step, once started (only then is there a WebAuthn request to abort). */
  asked?: Promise<unknown>;
  /**
   * Its `login/verify`, once sent: from then on it cannot be stopped (the server may sign the user
   * in whatever the page does), only waited for.
   */
  verifying?: Promise<unknown>;
  /** Settles once its `login/options` answer arrived or was given up (its cookie is set by then). */
  optionsSettled: Promise<void>;
  /** Rejects its caller's promise with `cancelled` at once (only before `verifying`). */
  cancel(): void;
  /** The running stop, so stopping twice aborts once. */
  halting?: Promise<void>;
}

/**
 * `register/verify` answers after which the contract guarantees nothing was saved. Not
 * `credential_exists` (that id is another account's live passkey), nor `network` or a 5xx (the
 * outcome is unknown): forgetting a saved passkey would lock its user out of it.
 */
const NOT_SAVED = [
  'verification_failed',
  'ceremony_expired',
  'username_taken',
  'too_many_credentials',
  'invalid_request',
  'unauthenticated',
  'rate_limited',
  'forbidden_origin',
  'unsupported_media_type',
  'payload_too_large',
] as const;

const cancelledError = () => new PasskeyError('cancelled', 'The autofill request was cancelled.');

/** How often a stopped autofill request is aborted again until it has settled. */
const ABORT_RETRY_MS = 20;
/** How long to wait for it at most: a browser that ignores the abort must not block the next ceremony. */
const ABORT_WAIT_LIMIT_MS = 1500;

/**
 * Aborts the WebAuthn request in flight until `asked` (its browser step) has settled, or until
 * {@link ABORT_WAIT_LIMIT_MS} have passed.
 */
async function abortUntilSettled(asked: Promise<unknown>): Promise<void> {
  const deadline = Date.now() + ABORT_WAIT_LIMIT_MS;
  let settled = false;
  const done = asked.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  while (!settled && Date.now() < deadline) {
    WebAuthnAbortService.cancelCeremony();
    await Promise.race([done, new Promise((resolve) => setTimeout(resolve, ABORT_RETRY_MS))]);
  }
}

/**
 * Creates a client for a server that serves the Passgate HTTP contract (`@passgate/express`,
 * `@passgate/nestjs`). It keeps no state but the pending autofill request.
 *
 * @example
 * const passkeys = createPasskeyClient();
 * await passkeys.signUp({ username: 'ada' });
 */
export function createPasskeyClient(options: PasskeyClientOptions = {}): PasskeyClient {
  const http: HttpOptions = {
    prefix: options.prefix ?? '/passkeys',
    baseUrl: options.baseUrl,
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    credentials: options.credentials ?? 'same-origin',
    timeoutMs: options.timeoutMs ?? 30_000,
  };
  // setTimeout takes at most 2^31 - 1 ms; above that (or for NaN) it fires at once.
  if (!(http.timeoutMs > 0 && http.timeoutMs <= 2_147_483_647)) {
    throw new RangeError('timeoutMs must be a number of milliseconds from 1 to 2147483647.');
  }
  const signals = options.signals ?? true;
  const call = <T>(method: Method, path: string, body?: unknown) => request<T>(http, method, path, body);

  let autofill: PendingAutofill | null = null;
  /** Every stop begun so far (an abort signal's too): a new ceremony starts once they are done. */
  let stopping: Promise<void> = Promise.resolve();

  /**
   * Stops an autofill request before another ceremony: waits for its options answer (or its
   * ceremony cookie would replace the new one's), then aborts its browser request until that
   * request has settled. Until: startAuthentication asks the browser only after its own
   * conditional-mediation check, so one abort can come before the request exists (which would
   * then stay open, offering passkeys that do nothing when picked); and Safari refuses a new
   * request (NotAllowedError) while an aborted one has not settled yet. A stopped request never
   * verifies what the browser returns.
   *
   * Too late once its `login/verify` is sent: the server may sign the user in whatever the page
   * does, so cancelling then would tell the app `cancelled` for a sign-in that happened. It is
   * waited for instead (its answer's cookies, the session and the cleared ceremony cookie, then
   * come before the next ceremony's options), and its caller gets the real outcome. No time
   * limit of its own here, unlike the browser step: moving on before the answer would let it land
   * after the next ceremony's cookie. The request's `timeoutMs` bounds the wait: it aborts the
   * request, and the browser drops an aborted request's answer, cookies included.
   */
  function halt(pending: PendingAutofill): Promise<void> {
    if (!pending.halting) {
      pending.halting = (async () => {
        if (pending.verifying) {
          await pending.verifying.catch(() => {});
          return;
        }
        pending.stopped = true;
        pending.cancel();
        await pending.optionsSettled;
        if (pending.asked) await abortUntilSettled(pending.asked);
      })();
      stopping = Promise.all([stopping, pending.halting]).then(() => {});
    }
    return pending.halting;
  }

  async function stopAutofill(): Promise<void> {
    const pending = autofill;
    autofill = null;
    if (pending) void halt(pending);
    await stopping;
  }

  /** Before a ceremony asks the server for options: without WebAuthn it could never finish. */
  function requireWebAuthn(): void {
    if (!browserSupportsWebAuthn()) {
      throw new PasskeyError('unsupported', 'This browser does not support WebAuthn.');
    }
  }

  /** Runs one browser WebAuthn call, with its failures as `PasskeyError`s. */
  async function browserStep<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (error) {
      throw errorFromBrowser(error);
    }
  }

  const toResult = ({ user, credential }: VerifyAnswer): PasskeyResult => ({ user, credential });

  async function register(
    body: Record<string, unknown>,
    nickname: string | undefined,
    auto?: { signal: AbortSignal | undefined },
  ): Promise<PasskeyResult> {
    requireWebAuthn();
    await stopAutofill();
    const optionsJSON = await call<PublicKeyCredentialCreationOptionsJSON>('POST', '/register/options', body);
    const signal = auto?.signal;
    if (signal?.aborted) throw new PasskeyError('cancelled', 'The passkey upgrade was aborted.');
    // startRegistration reaches navigator.credentials.create synchronously, so from here on its
    // request is the one WebAuthnAbortService aborts.
    const abort = () => WebAuthnAbortService.cancelCeremony();
    signal?.addEventListener('abort', abort, { once: true });
    const response = await browserStep(() =>
      startRegistration({ optionsJSON, useAutoRegister: auto !== undefined }),
    ).finally(() => signal?.removeEventListener('abort', abort));
    const sent: RegistrationResponseJSON & { nickname?: string } =
      nickname === undefined ? response : { ...response, nickname };
    try {
      return toResult(await call<VerifyAnswer>('POST', '/register/verify', sent));
    } catch (error) {
      if (signals && isPasskeyError(error, ...NOT_SAVED)) {
        // The authenticator keeps a passkey the server refused: it would be offered, and be unknown.
        await signalUnknownCredential(optionsJSON.rp.id ?? globalThis.location.hostname, response.id);
      }
      throw error;
    }
  }

  async function verifySignIn(
    optionsJSON: PublicKeyCredentialRequestOptionsJSON,
    response: AuthenticationResponseJSON,
  ): Promise<PasskeyResult> {
    try {
      return toResult(await call<VerifyAnswer>('POST', '/login/verify', response));
    } catch (error) {
      if (signals && isPasskeyError(error, 'unknown_credential')) {
        // The server does not know this passkey: the provider should stop offering it.
        await signalUnknownCredential(
          optionsJSON.rpId ?? globalThis.location.hostname,
          error.credentialId ?? response.id,
        );
      }
      throw error;
    }
  }

  async function signIn(input: { username?: string; hints?: Hint[] } = {}): Promise<PasskeyResult> {
    requireWebAuthn();
    await stopAutofill();
    const body = { username: input.username, hints: input.hints };
    const optionsJSON = await call<PublicKeyCredentialRequestOptionsJSON>('POST', '/login/options', body);
    const response = await browserStep(() => startAuthentication({ optionsJSON }));
    return verifySignIn(optionsJSON, response);
  }

  async function getSession(): Promise<Session | null> {
    try {
      return await call<Session>('GET', '/session');
    } catch (error) {
      if (isPasskeyError(error, 'unauthenticated')) return null;
      throw error;
    }
  }

  /**
   * Runs a sensitive action; on `reauthentication_required` the error gets a `reauthenticate()`
   * that signs the same account in again (username-first, so only its passkeys are offered) and
   * runs the action once more.
   */
  async function sensitive<T>(action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      if (isPasskeyError(error, 'reauthentication_required')) {
        error.reauthenticate = async () => {
          const session = await getSession();
          if (!session) throw new PasskeyError('unauthenticated', 'Nobody is signed in any more.');
          const again = await signIn({ username: session.user.name });
          if (again.user.id !== session.user.id) {
            throw new PasskeyError('unauthenticated', 'Another account signed in meanwhile.');
          }
          return action();
        };
      }
      throw error;
    }
  }

  async function accountSignal(): Promise<AccountSignal | null> {
    try {
      return (await call<{ signal: AccountSignal }>('GET', '/credentials')).signal;
    } catch {
      return null;
    }
  }

  return {
    signUp({ username, displayName, hints }) {
      return register({ username, displayName, hints }, undefined);
    },

    signIn,

    async signInWithAutofill({ signal, onWaiting } = {}) {
      if (signal?.aborted) throw cancelledError();
      let cancel!: (error: PasskeyError) => void;
      const cancelled = new Promise<never>((_resolve, reject) => {
        cancel = reject;
      });
      let settleOptions!: () => void;
      const pending: PendingAutofill = {
        stopped: false,
        optionsSettled: new Promise<void>((resolve) => {
          settleOptions = resolve;
        }),
        cancel: () => cancel(cancelledError()),
      };
      // Registered at once, so a modal ceremony started right after this call finds it.
      const previous = autofill;
      if (previous) void halt(previous);
      // Taken before this request can be stopped: its own stop waits for its options.
      const earlierStops = stopping;
      autofill = pending;
      const onAbort = () => {
        if (autofill === pending) autofill = null;
        void halt(pending);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const run = (async () => {
        let optionsJSON: PublicKeyCredentialRequestOptionsJSON;
        try {
          await earlierStops;
          if (!(await isAutofillAvailable())) {
            throw new PasskeyError('unsupported', 'This browser cannot offer passkeys in autofill.');
          }
          if (pending.stopped) throw cancelledError();
          optionsJSON = await call<PublicKeyCredentialRequestOptionsJSON>('POST', '/login/options', {});
        } finally {
          settleOptions();
        }
        if (pending.stopped) throw cancelledError();
        const asked = browserStep(() => startAuthentication({ optionsJSON, useBrowserAutofill: true }));
        pending.asked = asked;
        onWaiting?.();
        const response = await asked;
        if (pending.stopped) throw cancelledError();
        // The point of no return, in the same turn as the check above: a stop from here on waits.
        const verifying = verifySignIn(optionsJSON, response);
        pending.verifying = verifying;
        return verifying;
      })();
      run.catch(() => {});
      cancelled.catch(() => {});
      try {
        return await Promise.race([run, cancelled]);
      } finally {
        signal?.removeEventListener('abort', onAbort);
        if (autofill === pending) autofill = null;
      }
    },

    addPasskey({ nickname, hints } = {}) {
      return sensitive(() => register({ hints }, nickname));
    },

    async upgradeToPasskey({ nickname, signal } = {}) {
      if (signal?.aborted) return { upgraded: false, reason: 'declined' };
      const { conditionalCreate } = await getCapabilities();
      if (conditionalCreate !== 'supported') return { upgraded: false, reason: 'unsupported' };
      try {
        return { upgraded: true, ...(await register({ mediation: 'conditional' }, nickname, { signal })) };
      } catch (error) {
        if (isPasskeyError(error, 'cancelled')) return { upgraded: false, reason: 'declined' };
        if (isPasskeyError(error, 'already_registered')) {
          return { upgraded: false, reason: 'already_registered' };
        }
        throw error;
      }
    },

    getSession,

    async signOut() {
      await call<void>('POST', '/logout');
    },

    async listPasskeys() {
      const { credentials, signal } = await call<{
        credentials: Credential[];
        signal: AccountSignal | null;
      }>('GET', '/credentials');
      // `null` for the application's user before their first passkey: nothing to signal about.
      if (signals && signal) {
        await signalAllAcceptedCredentials(signal);
        await signalCurrentUserDetails(signal);
      }
      return credentials;
    },

    renamePasskey(id, nickname) {
      return sensitive(async () => {
        const updated = await call<Credential>('PATCH', `/credentials/${encodeURIComponent(id)}`, {
          nickname,
        });
        const signal = signals ? await accountSignal() : null;
        if (signal) await signalCurrentUserDetails(signal);
        return updated;
      });
    },

    deletePasskey(id) {
      return sensitive(async () => {
        const { signal } = await call<{ deleted: true; signal: AccountSignal }>(
          'DELETE',
          `/credentials/${encodeURIComponent(id)}`,
        );
        if (signals) await signalAllAcceptedCredentials(signal);
      });
    },

    isSupported: browserSupportsWebAuthn,
    isAutofillAvailable,
    getCapabilities,
  };
}
