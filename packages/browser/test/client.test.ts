import { SoftwareAuthenticator } from '@passgate/testing';
import { RP_ID } from '@passgate/testing/contract';
import { afterEach, beforeEach, describe, expect, expectTypeOf, test } from 'vitest';
import {
  createPasskeyClient,
  isPasskeyError,
  type PasskeyClient,
  PasskeyError,
  type Session,
} from '../src/index.js';
import { type FakeBrowser, type Interruption, installFakeBrowser } from './fake-browser.js';
import { browserFetch, type SentRequest, startServer, type TestServer } from './server.js';

let server: TestServer | undefined;
let browser: FakeBrowser;
let sent: SentRequest[];
let client: PasskeyClient;

async function setUp(
  overrides: Parameters<typeof startServer>[0] = {},
  prefix?: string,
  identify?: Parameters<typeof startServer>[2],
) {
  await server?.close();
  server = await startServer(overrides, prefix, identify);
  const tab = browserFetch(server.url);
  sent = tab.sent;
  client = createPasskeyClient({ baseUrl: server.url, fetch: tab.fetch, ...(prefix ? { prefix } : {}) });
}

beforeEach(async () => {
  browser = installFakeBrowser(new SoftwareAuthenticator());
  await setUp();
});
afterEach(async () => {
  browser.uninstall();
  await server?.close();
  server = undefined;
});
const url = () => server!.url;

/** The rejection of `promise`, which must be a PasskeyError. */
async function failure(promise: Promise<unknown>): Promise<PasskeyError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PasskeyError);
  return error as PasskeyError;
}

const paths = () => sent.map((r) => `${r.method} ${r.path}`);

describe('sign-up and sign-in against a real server', () => {
  test('signUp sends JSON to the options/verify pair, and the user is signed in', async () => {
    const result = await client.signUp({ username: 'ada', displayName: 'Ada Lovelace' });
    expect(result.user).toMatchObject({ name: 'ada', displayName: 'Ada Lovelace' });
    expect(result.credential.id).toBe(browser.authenticator.credentials[0]?.id);
    expect(paths()).toEqual(['POST /passkeys/register/options', 'POST /passkeys/register/verify']);
    expect(sent[0]?.headers['content-type']).toBe('application/json');
    expect(sent[0]?.body).toEqual({ username: 'ada', displayName: 'Ada Lovelace' });
    expect(sent[1]?.body).toMatchObject({ id: result.credential.id, type: 'public-key' });

    const session = await client.getSession();
    expect(session?.user.id).toBe(result.user.id);
    expect(session?.credentialId).toBe(result.credential.id);
  });

  test('signIn without a username is the discoverable flow; signOut ends the session', async () => {
    const { user } = await client.signUp({ username: 'grace' });
    await client.signOut();
    expect(await client.getSession()).toBeNull();

    const signedIn = await client.signIn();
    expect(signedIn.user.id).toBe(user.id);
    expect(sent.at(-2)).toMatchObject({ path: '/passkeys/login/options', body: {} });
    expect((await client.getSession())?.user.id).toBe(user.id);
    expect(browser.calls.at(-1)).toEqual({ method: 'get', mediation: undefined });
  });

  test('signIn with a username and hints: username-first, for a key without discoverable credentials', async () => {
    browser.uninstall();
    browser = installFakeBrowser(new SoftwareAuthenticator({ discoverable: false, transports: ['usb'] }));
    await setUp({ policy: { residentKey: 'preferred' } });
    await client.signUp({ username: 'hedy' });
    await client.signOut();

    await expect(client.signIn()).rejects.toMatchObject({ code: 'cancelled' }); // nothing discoverable
    const signedIn = await client.signIn({ username: 'hedy', hints: ['security-key'] });
    expect(signedIn.user.name).toBe('hedy');
    expect(sent.at(-2)?.body).toEqual({ username: 'hedy', hints: ['security-key'] });
  });

  test("server errors keep the contract's code, status and message; invalid_request names the field", async () => {
    await client.signUp({ username: 'taken' });
    await client.signOut();
    const taken = await failure(client.signUp({ username: 'taken' }));
    expect(taken).toMatchObject({ code: 'username_taken', status: 409 });
    expect(taken.message.length).toBeGreaterThan(0);
    expect(taken.reauthenticate).toBeUndefined();

    const tooLong = await failure(client.signUp({ username: 'x'.repeat(65) }));
    expect(tooLong).toMatchObject({ code: 'invalid_request', status: 400, field: 'username' });
    expect(isPasskeyError(tooLong, 'invalid_request')).toBe(true);
    expect(isPasskeyError(tooLong, 'username_taken')).toBe(false);
    expect(isPasskeyError(new Error('x'))).toBe(false);
  });

  test('rate_limited carries Retry-After in seconds', async () => {
    await setUp({ rateLimits: { perIp: { points: 1, durationSeconds: 60 }, accountFailures: false } });
    await client.signIn().catch(() => {}); // spends the only point
    const limited = await failure(client.signIn());
    expect(limited).toMatchObject({ code: 'rate_limited', status: 429 });
    expect(limited.retryAfter).toBeGreaterThan(0);
    expect(limited.retryAfter).toBeLessThanOrEqual(60);
  });

  test('a custom prefix (with stray slashes) reaches the routes mounted there', async () => {
    await setUp({}, '/auth/passkeys');
    const tab = browserFetch(url());
    sent = tab.sent;
    client = createPasskeyClient({ baseUrl: `${url()}/`, prefix: 'auth/passkeys/', fetch: tab.fetch });
    await client.signUp({ username: 'prefixed' });
    expect(paths()).toEqual(['POST /auth/passkeys/register/options', 'POST /auth/passkeys/register/verify']);
  });
  test("an application's own sign-in (a password): the session has no passkey, and the types say so", async () => {
    await setUp({}, undefined, () => ({
      userId: 'app-7',
      name: 'ada@example.com',
      authenticatedAt: Date.now(),
    }));
    const session = await client.getSession();
    expect(session).toMatchObject({ user: { id: 'app-7', name: 'ada@example.com' }, credentialId: null });
    // Checked by the typecheck: an app that trusts `string` here calls string methods on null.
    expectTypeOf<Session['credentialId']>().toEqualTypeOf<string | null>();
    expect(await client.listPasskeys()).toEqual([]);
    expect(browser.signals).toEqual([]);
  });
});

describe('browser-side failures', () => {
  test('a dismissed prompt (NotAllowedError) is cancelled, and nothing is created', async () => {
    browser.interrupt({
      kind: 'reject',
      name: 'NotAllowedError',
      message: 'The operation either timed out or was not allowed.',
    });
    const error = await failure(client.signUp({ username: 'alan' }));
    expect(error.code).toBe('cancelled');
    expect((error.cause as DOMException).name).toBe('NotAllowedError');
    expect(paths()).toEqual(['POST /passkeys/register/options']);
    expect(await client.getSession()).toBeNull();
  });

  test('adding a passkey with the authenticator that already holds one is already_registered', async () => {
    await client.signUp({ username: 'katherine' });
    const error = await failure(client.addPasskey());
    expect(error.code).toBe('already_registered');
    expect(paths().at(-1)).toBe('POST /passkeys/register/options');
  });

  test('SecurityError (RP ID not valid for the page) is security_error; anything else browser_error', async () => {
    browser.interrupt({ kind: 'reject', name: 'SecurityError' });
    expect((await failure(client.signUp({ username: 'a1' }))).code).toBe('security_error');
    browser.interrupt({ kind: 'reject', name: 'UnknownError' });
    expect((await failure(client.signUp({ username: 'a2' }))).code).toBe('browser_error');
    browser.interrupt({ kind: 'reject', name: 'ConstraintError' });
    expect((await failure(client.signUp({ username: 'a3' }))).code).toBe('unsupported');
  });

  test('without WebAuthn: ceremonies reject unsupported, capabilities say unsupported, upgrade is quiet', async () => {
    browser.removeWebAuthn();
    expect(client.isSupported()).toBe(false);
    expect(await client.isAutofillAvailable()).toBe(false);
    expect((await client.getCapabilities()).conditionalGet).toBe('unsupported');
    expect((await failure(client.signIn())).code).toBe('unsupported');
    expect((await failure(client.signInWithAutofill())).code).toBe('unsupported');
    expect(await client.upgradeToPasskey()).toEqual({ upgraded: false, reason: 'unsupported' });
    expect((await failure(client.signUp({ username: 'nobody' }))).code).toBe('unsupported');
    expect((await failure(client.addPasskey())).code).toBe('unsupported');
    expect(sent).toEqual([]); // no ceremony was started on the server for nothing
  });

  test('a server that cannot be reached, or answers without the contract JSON, is network', async () => {
    const closed = createPasskeyClient({ baseUrl: 'http://127.0.0.1:9', fetch: browserFetch(url()).fetch });
    const unreachable = await failure(closed.getSession());
    expect(unreachable.code).toBe('network');
    expect(unreachable.status).toBeUndefined();

    // A proxy in front of a dead app answers 502 with an HTML page.
    const proxied = createPasskeyClient({
      fetch: (_input, init) => fetch(`${url()}/not-json`, init),
    });
    const notJson = await failure(proxied.getSession());
    expect(notJson).toMatchObject({ code: 'network', status: 502 });
  });

  test('a server that never answers is network after timeoutMs, and the request is aborted', async () => {
    let aborted: unknown;
    const silent = createPasskeyClient({
      timeoutMs: 50,
      // What a browser's fetch does when nothing comes back: settles only when its signal aborts.
      fetch: (_input, init) =>
        new Promise<Response>((_resolve, reject) => {
          init?.signal?.addEventListener('abort', () => {
            aborted = init.signal?.reason;
            reject(init.signal?.reason);
          });
        }),
    });
    const error = await failure(silent.getSession());
    expect(error).toMatchObject({ code: 'network', message: 'The server did not answer within 50 ms.' });
    expect(aborted).toBeInstanceOf(DOMException);
  });

  test('timeoutMs takes 1 to 2147483647 ms (what setTimeout can wait); anything else throws', () => {
    for (const timeoutMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31]) {
      expect(() => createPasskeyClient({ timeoutMs }), String(timeoutMs)).toThrow(RangeError);
    }
    expect(() => createPasskeyClient({ timeoutMs: 2 ** 31 - 1 })).not.toThrow();
  });
});

describe('passkey management and the Signal API', () => {
  test('listPasskeys signals the accepted passkeys and the user details', async () => {
    const { user, credential } = await client.signUp({ username: 'barbara', displayName: 'Barbara Liskov' });
    const list = await client.listPasskeys();
    expect(list.map((c) => c.id)).toEqual([credential.id]);
    const handle = browser.authenticator.credentials[0]?.userHandle;
    expect(browser.signals).toEqual([
      {
        name: 'signalAllAcceptedCredentials',
        payload: { rpId: RP_ID, userId: handle, allAcceptedCredentialIds: [credential.id] },
      },
      {
        name: 'signalCurrentUserDetails',
        payload: { rpId: RP_ID, userId: handle, name: user.name, displayName: 'Barbara Liskov' },
      },
    ]);
  });

  test('rename returns the credential and signals the user details; delete signals what is left', async () => {
    const first = await client.signUp({ username: 'frances' });
    browser.uninstall();
    browser = installFakeBrowser(new SoftwareAuthenticator({ transports: ['usb'] })); // another device
    const second = await client.addPasskey({ nickname: 'Blue key', hints: ['security-key'] });
    expect(second.credential.nickname).toBe('Blue key');
    expect(sent.find((r) => r.path === '/passkeys/register/options' && r !== sent[0])?.body).toEqual({
      hints: ['security-key'],
    });
    expect(sent.at(-1)?.body).toMatchObject({ nickname: 'Blue key' });

    const renamed = await client.renamePasskey(second.credential.id, 'Red key');
    expect(renamed).toMatchObject({ id: second.credential.id, nickname: 'Red key' });
    expect(browser.signals.map((s) => s.name)).toEqual(['signalCurrentUserDetails']);
    expect(browser.signals[0]?.payload).toMatchObject({
      rpId: RP_ID,
      name: 'frances',
      displayName: 'frances',
    });

    await client.deletePasskey(second.credential.id);
    expect(browser.signals.at(-1)).toEqual({
      name: 'signalAllAcceptedCredentials',
      payload: {
        rpId: RP_ID,
        userId: browser.signals[0]?.payload['userId'],
        allAcceptedCredentialIds: [first.credential.id],
      },
    });
    expect((await client.listPasskeys()).map((c) => c.id)).toEqual([first.credential.id]);

    const last = await failure(client.deletePasskey(first.credential.id));
    expect(last).toMatchObject({ code: 'last_credential', status: 409 });
    const missing = await failure(client.renamePasskey('AAAAAAAAAAAAAAAAAAAAAA', 'x'));
    expect(missing).toMatchObject({ code: 'not_found', status: 404 });
  });

  test('with signals off, or a browser without the Signal API, everything still works and nothing is sent', async () => {
    await client.signUp({ username: 'radia' });
    browser.removeSignalApi();
    expect(await client.listPasskeys()).toHaveLength(1);
    await client.renamePasskey(browser.authenticator.credentials[0]!.id, 'Laptop');
    expect(browser.signals).toEqual([]);

    const tab = browserFetch(url());
    const quiet = createPasskeyClient({ baseUrl: url(), fetch: tab.fetch, signals: false });
    await quiet.signIn();
    await quiet.listPasskeys();
    expect(tab.sent.map((r) => r.path)).toEqual([
      '/passkeys/login/options',
      '/passkeys/login/verify',
      '/passkeys/credentials',
    ]);
  });

  test('unknown_credential: the error carries the id and the browser is told to forget the passkey', async () => {
    await client.signUp({ username: 'ida' });
    const id = browser.authenticator.credentials[0]!.id;
    await setUp(); // a fresh server that has never seen this passkey
    const error = await failure(client.signIn());
    expect(error).toMatchObject({ code: 'unknown_credential', status: 401, credentialId: id });
    expect(browser.signals).toEqual([
      { name: 'signalUnknownCredential', payload: { rpId: RP_ID, credentialId: id } },
    ]);
  });

  test('a passkey the browser created but the server refused to save: the browser is told to forget it', async () => {
    // Another origin in clientDataJSON: 400 verification_failed, after the authenticator kept the passkey.
    browser.registration.origin = 'https://elsewhere.example';
    const error = await failure(client.signUp({ username: 'orphan' }));
    expect(error).toMatchObject({ code: 'verification_failed', status: 400 });
    const created = browser.authenticator.credentials[0]!.id;
    expect(browser.signals).toEqual([
      { name: 'signalUnknownCredential', payload: { rpId: RP_ID, credentialId: created } },
    ]);

    const quiet = createPasskeyClient({ baseUrl: url(), fetch: browserFetch(url()).fetch, signals: false });
    expect((await failure(quiet.signUp({ username: 'orphan-2' }))).code).toBe('verification_failed');
    expect(browser.signals).toHaveLength(1);
  });

  test('credential_exists is a passkey the server knows (another account): nothing is signalled', async () => {
    const { credential } = await client.signUp({ username: 'owner' });
    await client.signOut();
    browser.uninstall();
    browser = installFakeBrowser(new SoftwareAuthenticator());
    browser.registration.credentialId = new Uint8Array(Buffer.from(credential.id, 'base64url'));
    const error = await failure(client.signUp({ username: 'copycat' }));
    expect(error).toMatchObject({ code: 'credential_exists', status: 409 });
    expect(browser.signals).toEqual([]);
  });

  test('reauthentication_required: reauthenticate() signs the same user in (username-first) and retries', async () => {
    const first = await client.signUp({ username: 'margaret' });
    browser.uninstall();
    browser = installFakeBrowser(new SoftwareAuthenticator());
    const second = await client.addPasskey();

    server!.advance(301_000); // past the default 300 s sensitive-action window
    const error = await failure(client.deletePasskey(first.credential.id));
    expect(error).toMatchObject({ code: 'reauthentication_required', status: 401 });
    expect(typeof error.reauthenticate).toBe('function');
    expect((await client.listPasskeys()).map((c) => c.id)).toContain(first.credential.id);

    await error.reauthenticate!();
    const loginOptions = sent.filter((r) => r.path === '/passkeys/login/options').at(-1);
    expect(loginOptions?.body).toEqual({ username: 'margaret' });
    expect((await client.listPasskeys()).map((c) => c.id)).toEqual([second.credential.id]);
    expect((await client.getSession())?.credentialId).toBe(second.credential.id);
  });

  test('reauthenticate() rejects cancelled when the user dismisses the prompt; nothing is deleted', async () => {
    const first = await client.signUp({ username: 'mary' });
    browser.uninstall();
    browser = installFakeBrowser(new SoftwareAuthenticator());
    await client.addPasskey();
    server!.advance(301_000);
    const error = await failure(client.deletePasskey(first.credential.id));
    browser.interrupt({ kind: 'reject', name: 'NotAllowedError' });
    expect((await failure(error.reauthenticate!())).code).toBe('cancelled');
    expect((await failure(client.deletePasskey(first.credential.id))).code).toBe('reauthentication_required');
  });
});

describe('autofill (conditional mediation)', () => {
  test('signInWithAutofill asks with mediation "conditional" and resolves once a passkey is picked', async () => {
    const { user } = await client.signUp({ username: 'edith' });
    await client.signOut();
    let waiting = 0;
    const result = await client.signInWithAutofill({ onWaiting: () => waiting++ });
    expect(waiting).toBe(1);
    expect(result.user.id).toBe(user.id);
    expect(browser.calls.at(-1)).toEqual({ method: 'get', mediation: 'conditional' });
    expect(sent.at(-2)?.body).toEqual({});
  });

  test('an abort signal cancels a pending autofill request', async () => {
    browser.interrupt({ kind: 'wait' });
    const controller = new AbortController();
    const pending = client.signInWithAutofill({ signal: controller.signal });
    await expect.poll(() => browser.calls.length).toBe(1);
    controller.abort();
    expect((await failure(pending)).code).toBe('cancelled');
    expect((await failure(client.signInWithAutofill({ signal: controller.signal }))).code).toBe('cancelled');
  });

  test('a modal sign-in started while the autofill options are in flight: autofill never reaches the browser', async () => {
    const { user } = await client.signUp({ username: 'lise' });
    await client.signOut();
    const callsBefore = browser.calls.length;
    const autofill = client.signInWithAutofill();
    const modal = client.signIn();
    expect((await failure(autofill)).code).toBe('cancelled');
    // The modal ceremony's cookie was not overwritten by the autofill's options: its verify passed.
    expect((await modal).user.id).toBe(user.id);
    expect(browser.calls.slice(callsBefore)).toEqual([{ method: 'get', mediation: undefined }]);
  });

  /**
   * Signs `username` up and out, leaves an autofill request pending in the browser (`interruption`
   * decides how it ends), then starts a modal sign-in, after aborting the autofill's own signal when
   * `abortFirst`: the autofill rejects `cancelled` and the modal sign-in signs the user in.
   */
  async function modalReplacesAutofill(username: string, interruption: Interruption, abortFirst = false) {
    const { user } = await client.signUp({ username });
    await client.signOut();
    browser.interrupt(interruption);
    const controller = new AbortController();
    const autofill = client.signInWithAutofill({ signal: controller.signal });
    await expect.poll(() => browser.calls.at(-1)?.mediation).toBe('conditional');
    if (abortFirst) controller.abort();
    const modal = client.signIn();
    expect((await failure(autofill)).code).toBe('cancelled');
    expect((await modal).user.id).toBe(user.id);
  }

  test('a modal sign-in aborts an autofill request pending in the browser', async () => {
    await modalReplacesAutofill('chien-shiung', { kind: 'wait' });
    expect(browser.calls.at(-1)).toEqual({ method: 'get', mediation: undefined });
  });

  test('Safari: a modal sign-in asks the browser only once the aborted autofill request has settled', async () => {
    // iOS 16 settles an aborted conditional request late, and refuses (NotAllowedError) a request
    // made before it has (SimpleWebAuthn issue #281).
    browser.webkitAbortDelayMs = 300;
    await modalReplacesAutofill('ada-safari', { kind: 'wait' });
    expect(browser.pending).toBe(0);
  });

  test('an abort that comes before the browser was asked still ends the autofill request', async () => {
    // startAuthentication checks conditional mediation (its second check here) before it asks the
    // browser: an abort in between must not leave a request the user can pick from with no effect.
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let checking = false;
    browser.beforeConditionalCheck = (n) => {
      if (n !== 2) return undefined;
      checking = true;
      return held;
    };
    browser.interrupt({ kind: 'wait' });
    const controller = new AbortController();
    const pending = client.signInWithAutofill({ signal: controller.signal });
    await expect.poll(() => checking).toBe(true);
    controller.abort();
    expect((await failure(pending)).code).toBe('cancelled');
    release();
    await expect.poll(() => browser.calls.at(-1)?.mediation).toBe('conditional');
    await expect.poll(() => browser.pending).toBe(0);
  });

  test('Safari: the app aborts autofill (its signal) and starts a modal sign-in at once; the sign-in works', async () => {
    browser.webkitAbortDelayMs = 300;
    await modalReplacesAutofill('ada-routed', { kind: 'wait' }, true);
  });

  test('a browser that never ends an aborted autofill request does not block the modal sign-in', async () => {
    await modalReplacesAutofill('ada-stuck', { kind: 'hang' });
  });

  /**
   * A tab (its own cookie jar) whose first `login/verify` waits for `release()` once sent: the browser
   * has returned the passkey the user picked, and the server has not answered yet (a slow network).
   * `events` lists each request when sent and again when answered (its cookies kept by then).
   */
  function tabHoldingVerify() {
    const tab = browserFetch(url());
    const events: string[] = [];
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let held = false;
    const fetchLike = async (input: RequestInfo | URL, init?: RequestInit) => {
      const label = `${init?.method ?? 'GET'} ${new URL(String(input)).pathname}`;
      events.push(label);
      if (label === 'POST /passkeys/login/verify' && !held) {
        held = true;
        await released;
      }
      const response = await tab.fetch(input, init);
      events.push(`answered ${label}`);
      return response;
    };
    const tabClient = createPasskeyClient({ baseUrl: url(), fetch: fetchLike as typeof fetch });
    return { client: tabClient, events, release, held: () => held };
  }

  test('an abort after the user picked a passkey does not cancel the sign-in: it resolves signed in', async () => {
    const tab = tabHoldingVerify();
    const { user } = await tab.client.signUp({ username: 'late-abort' });
    await tab.client.signOut();
    const controller = new AbortController();
    const autofill = tab.client.signInWithAutofill({ signal: controller.signal });
    await expect.poll(tab.held).toBe(true);
    controller.abort();
    tab.release();
    // The page and the server agree: the promise says signed in, and the session says so too.
    expect((await autofill).user.id).toBe(user.id);
    expect((await tab.client.getSession())?.user.id).toBe(user.id);
  });

  test("an abort after the pick, and the server refuses the passkey: the server's error, not cancelled", async () => {
    await client.signUp({ username: 'late-abort-unknown' });
    const id = browser.authenticator.credentials[0]!.id;
    await setUp(); // a fresh server that has never seen this passkey
    const tab = tabHoldingVerify();
    const controller = new AbortController();
    const autofill = tab.client.signInWithAutofill({ signal: controller.signal });
    await expect.poll(tab.held).toBe(true);
    controller.abort();
    tab.release();
    expect(await failure(autofill)).toMatchObject({ code: 'unknown_credential', credentialId: id });
    expect(browser.signals).toEqual([
      { name: 'signalUnknownCredential', payload: { rpId: RP_ID, credentialId: id } },
    ]);
    expect(await tab.client.getSession()).toBeNull();
  });

  test('a modal sign-in started while the picked passkey is being verified waits for that sign-in, then runs', async () => {
    const tab = tabHoldingVerify();
    const { user } = await tab.client.signUp({ username: 'late-modal' });
    await tab.client.signOut();
    const autofill = tab.client.signInWithAutofill();
    await expect.poll(tab.held).toBe(true);
    const modal = tab.client.signIn();
    tab.release();
    const [autofilled, modalSignedIn] = await Promise.allSettled([autofill, modal]);
    expect(autofilled).toMatchObject({ status: 'fulfilled', value: { user: { id: user.id } } });
    expect(modalSignedIn).toMatchObject({ status: 'fulfilled', value: { user: { id: user.id } } });
    // The modal ceremony asked for options only once the autofill's verify had answered, so that
    // answer (which clears the ceremony cookie) could not end the modal ceremony's.
    const verified = tab.events.indexOf('answered POST /passkeys/login/verify');
    expect(tab.events.slice(verified + 1)).toEqual([
      'POST /passkeys/login/options',
      'answered POST /passkeys/login/options',
      'POST /passkeys/login/verify',
      'answered POST /passkeys/login/verify',
    ]);
  });

  test("a picked passkey's login/verify that never answers holds a modal sign-in only until timeoutMs", async () => {
    await client.signUp({ username: 'lost-verify' });
    await client.signOut();
    const tab = browserFetch(url());
    let lost = false;
    const fetchLike = (input: RequestInfo | URL, init?: RequestInit) => {
      if (!lost && new URL(String(input)).pathname === '/passkeys/login/verify') {
        lost = true; // sent, and no answer ever comes: only the request's own abort ends it
        return new Promise<Response>((_resolve, reject) => {
          init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
        });
      }
      return tab.fetch(input, init);
    };
    const tabClient = createPasskeyClient({
      baseUrl: url(),
      fetch: fetchLike as typeof fetch,
      timeoutMs: 300,
    });
    const autofill = tabClient.signInWithAutofill();
    await expect.poll(() => lost).toBe(true);
    const modal = tabClient.signIn();
    const [autofilled, modalSignedIn] = await Promise.allSettled([autofill, modal]);
    expect(autofilled).toMatchObject({ status: 'rejected', reason: { code: 'network' } });
    expect(modalSignedIn).toMatchObject({ status: 'fulfilled', value: { user: { name: 'lost-verify' } } });
    expect((await tabClient.getSession())?.user.name).toBe('lost-verify');
  });

  test('a stop before the client got the picked passkey still cancels: what the browser returns is not sent', async () => {
    // The user picks just as the page stops autofill, and the browser returns the passkey anyway.
    await client.signUp({ username: 'early-abort' });
    await client.signOut();
    browser.interrupt({ kind: 'pick-despite-abort' });
    const controller = new AbortController();
    const autofill = client.signInWithAutofill({ signal: controller.signal });
    await expect.poll(() => browser.calls.at(-1)?.mediation).toBe('conditional');
    controller.abort();
    expect((await failure(autofill)).code).toBe('cancelled');
    await expect.poll(() => browser.pending).toBe(0);
    expect(paths().filter((p) => p === 'POST /passkeys/login/verify')).toEqual([]);
    expect(await client.getSession()).toBeNull();
  });

  test('without autofill support it rejects unsupported without asking the server', async () => {
    browser.capabilities['conditionalGet'] = false;
    expect(await client.isAutofillAvailable()).toBe(false);
    expect((await failure(client.signInWithAutofill())).code).toBe('unsupported');
    expect(sent).toEqual([]);
  });
});

describe('upgradeToPasskey (conditional create)', () => {
  test('where the browser cannot create passkeys without a prompt, it resolves quietly and asks nobody', async () => {
    await client.signUp({ username: 'rosalind' });
    const before = sent.length;
    expect(await client.upgradeToPasskey()).toEqual({ upgraded: false, reason: 'unsupported' });
    browser.capabilities['conditionalCreate'] = false;
    expect(await client.upgradeToPasskey()).toEqual({ upgraded: false, reason: 'unsupported' });
    expect(sent.length).toBe(before);
    expect(browser.calls.filter((c) => c.method === 'create')).toHaveLength(1);
  });

  test('where it can, it asks for a conditional create and saves the passkey without a prompt', async () => {
    const { user } = await client.signUp({ username: 'dorothy' });
    browser.uninstall();
    browser = installFakeBrowser(new SoftwareAuthenticator()); // the password manager's authenticator
    browser.capabilities['conditionalCreate'] = true;
    const result = await client.upgradeToPasskey({ nickname: 'Password manager' });
    expect(result).toMatchObject({ upgraded: true, user: { id: user.id } });
    if (!result.upgraded) throw new Error('not upgraded');
    expect(result.credential.nickname).toBe('Password manager');
    expect(sent.at(-2)).toMatchObject({
      path: '/passkeys/register/options',
      body: { mediation: 'conditional' },
    });
    expect(browser.calls.at(-1)).toEqual({ method: 'create', mediation: 'conditional' });
    expect((await client.listPasskeys()).map((c) => c.id)).toContain(result.credential.id);
  });

  test('signed out, where conditional create is supported: rejects with PasskeyError unauthenticated, creates nothing', async () => {
    browser.capabilities['conditionalCreate'] = true;
    const error = await failure(client.upgradeToPasskey());
    expect(error).toBeInstanceOf(PasskeyError);
    expect(error.code).toBe('unauthenticated');
    expect(error.status).toBe(401);
    expect(sent.at(-1)).toMatchObject({
      path: '/passkeys/register/options',
      body: { mediation: 'conditional' },
    });
    expect(browser.calls.filter((c) => c.method === 'create')).toEqual([]);
  });

  test('a declined conditional create resolves quietly and saves nothing', async () => {
    await client.signUp({ username: 'grace-h' });
    browser.uninstall();
    browser = installFakeBrowser(new SoftwareAuthenticator());
    browser.capabilities['conditionalCreate'] = true;
    browser.interrupt({ kind: 'reject', name: 'NotAllowedError' });
    expect(await client.upgradeToPasskey()).toEqual({ upgraded: false, reason: 'declined' });
    expect(await client.listPasskeys()).toHaveLength(1);
  });

  test('an abort signal ends a conditional create the browser keeps open: declined, nothing saved', async () => {
    await client.signUp({ username: 'hopper' });
    browser.uninstall();
    browser = installFakeBrowser(new SoftwareAuthenticator());
    browser.capabilities['conditionalCreate'] = true;
    browser.interrupt({ kind: 'wait' });
    const controller = new AbortController();
    const upgrade = client.upgradeToPasskey({ signal: controller.signal });
    await expect.poll(() => browser.calls.at(-1)?.mediation).toBe('conditional');
    controller.abort();
    expect(await upgrade).toEqual({ upgraded: false, reason: 'declined' });
    expect(await client.listPasskeys()).toHaveLength(1);
    expect(await client.upgradeToPasskey({ signal: controller.signal })).toEqual({
      upgraded: false,
      reason: 'declined',
    });
  });
});
