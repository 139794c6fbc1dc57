/**
 * A fake browser at exactly one boundary: `navigator.credentials` and the `PublicKeyCredential`
 * statics (capabilities, the Signal API). Everything above it is real: @simplewebauthn/browser's
 * encoding, the client, HTTP to a real Express server. The authenticator behind it is
 * @passgate/testing's software authenticator, so the server verifies real signatures.
 */
import type { RegistrationContext, SoftwareAuthenticator } from '@passgate/testing';
import { ORIGIN } from '@passgate/testing/contract';

const b64url = (buffer: ArrayBuffer | ArrayBufferView): string =>
  (ArrayBuffer.isView(buffer)
    ? Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength)
    : Buffer.from(buffer)
  ).toString('base64url');
const bytes = (value: string): ArrayBuffer => {
  const buf = Buffer.from(value, 'base64url');
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
};

export interface SignalCall {
  name: 'signalUnknownCredential' | 'signalAllAcceptedCredentials' | 'signalCurrentUserDetails';
  payload: Record<string, unknown>;
}

/** What the next `create`/`get` does instead of asking the authenticator. */
export type Interruption =
  | { kind: 'reject'; name: string; message?: string }
  /** Stays pending until the request's AbortSignal fires (a user who never picks anything). */
  | { kind: 'wait' }
  /** Stays pending whatever happens (a browser that ignores the abort of a conditional request). */
  | { kind: 'hang' }
  /**
   * Stays pending until the request's AbortSignal fires, then returns the assertion all the same: the
   * user picked a passkey just as the page stopped the request, and the browser's answer was on its way.
   */
  | { kind: 'pick-despite-abort' };

export interface FakeBrowser {
  authenticator: SoftwareAuthenticator;
  /** Every `navigator.credentials` call, with its mediation (`conditional` for autofill/auto-register). */
  calls: { method: 'create' | 'get'; mediation: string | undefined }[];
  signals: SignalCall[];
  /** Applied (and consumed) by the next `create` or `get`. */
  interrupt(next: Interruption): void;
  /** Values `getClientCapabilities()` reports (others are absent, i.e. unknown). */
  capabilities: Record<string, boolean>;
  /** `navigator.credentials` requests started and not settled yet. */
  readonly pending: number;
  /**
   * Safari's (iOS 16) behaviour: an aborted request settles only after this many milliseconds, and a
   * request made while another has not settled is refused at once with NotAllowedError. Off (0) by default.
   */
  webkitAbortDelayMs: number;
  /**
   * Runs before the n-th `isConditionalMediationAvailable()` answers (counting from 1), e.g. to hold
   * the check @simplewebauthn/browser makes before it asks for an autofill request.
   */
  beforeConditionalCheck: ((n: number) => Promise<void> | undefined) | undefined;
  /** Overrides for every `create` (e.g. another origin in clientDataJSON, a given credential id). */
  registration: Partial<RegistrationContext>;
  /** Removes `PublicKeyCredential`'s Signal API methods (an older browser). */
  removeSignalApi(): void;
  /** Removes WebAuthn altogether. */
  removeWebAuthn(): void;
  uninstall(): void;
}

const GLOBALS = ['PublicKeyCredential', 'navigator', 'location', 'document'] as const;

function domError(name: string, message = name): Error {
  return new DOMException(message, name);
}

function waitForAbort(signal: AbortSignal | undefined, delayMs: number): Promise<never> {
  return new Promise((_resolve, reject) => {
    const fail = () => {
      const reason = signal?.reason ?? domError('AbortError');
      if (delayMs > 0) setTimeout(() => reject(reason), delayMs);
      else reject(reason);
    };
    if (signal?.aborted) fail();
    else signal?.addEventListener('abort', fail, { once: true });
  });
}

export function installFakeBrowser(authenticator: SoftwareAuthenticator): FakeBrowser {
  const saved = GLOBALS.map((name) => [name, Object.getOwnPropertyDescriptor(globalThis, name)] as const);
  const calls: FakeBrowser['calls'] = [];
  const signals: SignalCall[] = [];
  let next: Interruption | null = null;
  const capabilities: Record<string, boolean> = { conditionalGet: true };
  let pending = 0;
  const registration: Partial<RegistrationContext> = {};
  let conditionalChecks = 0;
  const state = {
    webkitAbortDelayMs: 0,
    beforeConditionalCheck: undefined as FakeBrowser['beforeConditionalCheck'],
  };

  // biome-ignore lint/complexity/noStaticOnlyClass: PublicKeyCredential is a class with static methods in browsers.
  class FakePublicKeyCredential {
    static async isConditionalMediationAvailable() {
      conditionalChecks += 1;
      await state.beforeConditionalCheck?.(conditionalChecks);
      return capabilities['conditionalGet'] === true;
    }
    static async isUserVerifyingPlatformAuthenticatorAvailable() {
      return true;
    }
    static async getClientCapabilities() {
      return { ...capabilities };
    }
  }
  const statics = FakePublicKeyCredential as unknown as Record<string, unknown>;
  for (const name of [
    'signalUnknownCredential',
    'signalAllAcceptedCredentials',
    'signalCurrentUserDetails',
  ]) {
    statics[name] = async (payload: Record<string, unknown>) => {
      signals.push({ name: name as SignalCall['name'], payload });
    };
  }

  async function interrupted(signal: AbortSignal | undefined): Promise<void> {
    const current = next;
    next = null;
    if (current?.kind === 'reject') throw domError(current.name, current.message);
    if (current?.kind === 'wait') await waitForAbort(signal, state.webkitAbortDelayMs);
    if (current?.kind === 'hang') await new Promise<never>(() => {});
    if (current?.kind === 'pick-despite-abort') {
      await new Promise((resolve) => signal?.addEventListener('abort', resolve, { once: true }));
    }
  }

  /** A `PublicKeyCredential`-like object for a software authenticator's JSON response. */
  function asCredential(
    r: {
      id: string;
      rawId: string;
      type: string;
      authenticatorAttachment?: string;
      clientExtensionResults: unknown;
      response: { clientDataJSON: string };
    },
    response: Record<string, unknown>,
  ) {
    return {
      id: r.id,
      rawId: bytes(r.rawId),
      type: r.type,
      authenticatorAttachment: r.authenticatorAttachment,
      response: { clientDataJSON: bytes(r.response.clientDataJSON), ...response },
      getClientExtensionResults: () => r.clientExtensionResults,
    };
  }

  /** Records the call, applies any interruption, and turns the decoded options back into JSON. */
  async function begin(
    method: 'create' | 'get',
    options: { mediation?: string; signal?: AbortSignal | null; publicKey?: unknown },
    list: 'excludeCredentials' | 'allowCredentials',
  ) {
    calls.push({ method, mediation: options.mediation });
    if (state.webkitAbortDelayMs > 0 && pending > 1) {
      throw domError('NotAllowedError', 'A request is already pending.');
    }
    if (options.signal?.aborted) throw options.signal.reason;
    await interrupted(options.signal ?? undefined);
    const pk = options.publicKey as any;
    return {
      ...pk,
      challenge: b64url(pk.challenge),
      [list]: (pk[list] ?? []).map((d: { id: ArrayBuffer }) => ({ ...d, id: b64url(d.id) })),
    };
  }

  async function createCredential(options: CredentialCreationOptions & { mediation?: string }) {
    const json = await begin('create', options, 'excludeCredentials');
    json.user = { ...json.user, id: b64url(json.user.id) };
    const r = await authenticator.createCredential(json, { origin: ORIGIN, ...registration });
    return asCredential(r, {
      attestationObject: bytes(r.response.attestationObject),
      getTransports: () => r.response.transports ?? [],
      getPublicKeyAlgorithm: () => r.response.publicKeyAlgorithm,
      getPublicKey: () => (r.response.publicKey ? bytes(r.response.publicKey) : null),
      getAuthenticatorData: () => bytes(r.response.authenticatorData ?? ''),
    });
  }

  async function getAssertion(options: CredentialRequestOptions & { mediation?: string }) {
    const json = await begin('get', options, 'allowCredentials');
    let r: Awaited<ReturnType<SoftwareAuthenticator['getAssertion']>>;
    try {
      r = await authenticator.getAssertion(json, { origin: ORIGIN });
    } catch (error) {
      // Nothing to offer: a browser never says so, it reports NotAllowedError.
      throw domError('NotAllowedError', (error as Error).message);
    }
    return asCredential(r, {
      authenticatorData: bytes(r.response.authenticatorData),
      signature: bytes(r.response.signature),
      userHandle: r.response.userHandle ? bytes(r.response.userHandle) : null,
    });
  }

  /** Counts the request as pending until it settles. */
  async function tracked<T>(request: () => Promise<T>): Promise<T> {
    pending += 1;
    try {
      return await request();
    } finally {
      pending -= 1;
    }
  }

  const credentials = {
    create: (options: CredentialCreationOptions & { mediation?: string }) =>
      tracked(() => createCredential(options)),
    get: (options: CredentialRequestOptions & { mediation?: string }) => tracked(() => getAssertion(options)),
  };

  const define = (name: (typeof GLOBALS)[number], value: unknown) =>
    Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  define('PublicKeyCredential', FakePublicKeyCredential);
  define('navigator', { credentials });
  define('location', { hostname: new URL(ORIGIN).hostname });
  // The autofill input simplewebauthn checks for: <input autocomplete="username webauthn">.
  define('document', { querySelectorAll: (selector: string) => (selector.includes('webauthn') ? [{}] : []) });

  return {
    authenticator,
    calls,
    signals,
    capabilities,
    registration,
    get pending() {
      return pending;
    },
    get webkitAbortDelayMs() {
      return state.webkitAbortDelayMs;
    },
    set webkitAbortDelayMs(value) {
      state.webkitAbortDelayMs = value;
    },
    get beforeConditionalCheck() {
      return state.beforeConditionalCheck;
    },
    set beforeConditionalCheck(value) {
      state.beforeConditionalCheck = value;
    },
    interrupt(value) {
      next = value;
    },
    removeSignalApi() {
      delete statics['signalUnknownCredential'];
      delete statics['signalAllAcceptedCredentials'];
      delete statics['signalCurrentUserDetails'];
    },
    removeWebAuthn() {
      Reflect.deleteProperty(globalThis, 'PublicKeyCredential');
    },
    uninstall() {
      for (const [name, descriptor] of saved) {
        if (descriptor) Object.defineProperty(globalThis, name, descriptor);
        else Reflect.deleteProperty(globalThis, name);
      }
    },
  };
}
