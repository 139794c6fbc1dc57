/**
 * Debian's Chromium, headless, driven by playwright-core, with CDP virtual authenticators
 * (`WebAuthn.enable` without UI: `enableUI: true` hangs headless; authenticators are added before the
 * page loads, since conditional-mediation and platform-authenticator checks read false until one is).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type APIResponse,
  type BrowserContext,
  type CDPSession,
  chromium,
  type Page,
  type Request,
} from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface VirtualAuthenticatorOptions {
  protocol?: 'ctap2' | 'u2f';
  transport?: 'internal' | 'usb' | 'nfc' | 'ble' | 'hybrid';
  hasResidentKey?: boolean;
  hasUserVerification?: boolean;
  isUserVerified?: boolean;
  automaticPresenceSimulation?: boolean;
  defaultBackupEligibility?: boolean;
  defaultBackupState?: boolean;
}

/** A credential as `WebAuthn.getCredentials` reports it (ids in base64, not base64url). */
export interface VirtualCredential {
  credentialId: string;
  isResidentCredential: boolean;
  rpId?: string;
  privateKey: string;
  userHandle?: string;
  signCount: number;
  backupEligibility?: boolean;
  backupState?: boolean;
  userName?: string;
  userDisplayName?: string;
}

export interface WebAuthnEvent {
  name: 'credentialAdded' | 'credentialAsserted' | 'credentialUpdated' | 'credentialDeleted';
  authenticatorId: string;
  credential?: VirtualCredential;
  credentialId?: string;
}

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  cdp: CDPSession;
  /** Every WebAuthn domain event seen so far. */
  events: WebAuthnEvent[];
  addAuthenticator(options?: VirtualAuthenticatorOptions): Promise<string>;
  removeAuthenticator(id: string): Promise<void>;
  credentials(authenticatorId: string): Promise<VirtualCredential[]>;
  setUserVerified(authenticatorId: string, isUserVerified: boolean): Promise<void>;
  /**
   * Resolves with the first event (already seen or future) that matches; rejects after `timeoutMs`
   * (default 15 000 ms: a bound for reporting a failure on a loaded machine, not a timing check).
   */
  waitForEvent(match: (event: WebAuthnEvent) => boolean, timeoutMs?: number): Promise<WebAuthnEvent>;
  close(): Promise<void>;
}

/**
 * A fresh browser profile with WebAuthn's virtual environment on. Add authenticators before `page.goto`.
 * `extraArgs` go after the defaults (e.g. `--host-resolver-rules`).
 */
export async function openBrowser(extraArgs: string[] = []): Promise<BrowserSession> {
  const dir = await mkdtemp(join(tmpdir(), 'passgate-e2e-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...ARGS, ...extraArgs],
    viewport: { width: 1100, height: 800 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const events: WebAuthnEvent[] = [];
  const waiters = new Set<() => void>();
  for (const name of [
    'credentialAdded',
    'credentialAsserted',
    'credentialUpdated',
    'credentialDeleted',
  ] as const) {
    cdp.on(
      `WebAuthn.${name}` as never,
      ((params: Omit<WebAuthnEvent, 'name'>) => {
        events.push({ name, ...params });
        for (const wake of waiters) wake();
      }) as never,
    );
  }
  return {
    context,
    page,
    cdp,
    events,
    async addAuthenticator(options = {}) {
      const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: {
          protocol: 'ctap2',
          transport: 'internal',
          hasResidentKey: true,
          hasUserVerification: true,
          isUserVerified: true,
          automaticPresenceSimulation: true,
          ...options,
        },
      });
      return authenticatorId;
    },
    async removeAuthenticator(authenticatorId) {
      await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
    },
    async credentials(authenticatorId) {
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      return credentials as VirtualCredential[];
    },
    async setUserVerified(authenticatorId, isUserVerified) {
      await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified });
    },
    waitForEvent(match, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.find(match);
          if (found) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `No matching WebAuthn event within ${timeoutMs} ms (seen: ${events.map((e) => e.name).join(', ') || 'none'})`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async close() {
      await context.close().catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Signs out with the page's sign-out button (the demos' pages share it, and their `data-view` and
 * `data-autofill`); with presence simulation off meanwhile, the autofill request on the home page
 * stays pending instead of signing in again at once.
 */
export async function signOutKeepingAutofillPending(
  b: BrowserSession,
  authenticatorId: string,
): Promise<void> {
  await b.cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: false });
  await b.page.click('[data-testid="sign-out"]');
  await b.page.waitForURL('**/?signed-out');
  await b.page.waitForSelector('body[data-view="signed-out"]');
  await b.page.waitForSelector('body[data-autofill="pending"]');
  await b.cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: true });
}

/**
 * Clicks the page's passkey sign-in button (a modal ceremony: it stops the autofill request) during an
 * outage: its `login/verify` is answered `503 store_unavailable` without reaching the server, and later
 * requests go through. Resolves with the status the page got once it has it.
 */
export async function passkeyButtonSignInDuringOutage(page: Page): Promise<number> {
  await page.route(
    '**/passkeys/login/verify',
    (route) =>
      route.fulfill({
        status: 503,
        contentType: 'application/json',
        body: JSON.stringify({ error: { code: 'store_unavailable', message: 'Try again.' } }),
      }),
    { times: 1 },
  );
  const refused = page.waitForResponse((r) => r.url().endsWith('/passkeys/login/verify'));
  await page.click('[data-testid="passkey-sign-in"]');
  return (await refused).status();
}

/** An answer the page got, read by `catchAnswer` on its way to the page. */
export interface CaughtAnswer<T> {
  /** The page's request (its post data included). */
  request: Request;
  status: number;
  /** The body, parsed as JSON. */
  body: T;
}

/**
 * Reads the answer to the next request matching `url` (a Playwright glob or RegExp) on its way to the
 * page and then hands it on unchanged (`page.route` with `times: 1`, `route.fetch`, `route.fulfill`).
 *
 * Use it instead of `page.waitForResponse` + `response.json()` whenever the page may navigate once it
 * has the answer (a sign-in goes to the account page): Chromium then drops the response body, and
 * reading it fails with 'No resource with given identifier found'. Here the body is read before the
 * page sees the answer, so nothing the page does afterwards can take it away.
 *
 * Await it before the action that makes the request: it resolves once the route is in place.
 * `answer` resolves with the first matching request's answer; it rejects when that request could not
 * be made (the page's request is then aborted), when the body is not JSON (the page still gets the
 * answer as it came), or when no request matched within `timeoutMs` (default 30 000 ms, like
 * `waitForResponse`). The route serves that one request and then removes itself: no `unroute`, which
 * could run while the handler is still fulfilling.
 */
export async function catchAnswer<T>(
  page: Page,
  url: string | RegExp,
  timeoutMs = 30_000,
): Promise<{ answer: Promise<CaughtAnswer<T>> }> {
  let resolve: (answer: CaughtAnswer<T>) => void = () => {};
  let reject: (error: Error) => void = () => {};
  const answer = new Promise<CaughtAnswer<T>>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Handled here too, so a test that failed before awaiting it reports no stray rejection.
  answer.catch(() => {});
  const timer = setTimeout(() => reject(new Error(`No request to ${url} within ${timeoutMs} ms`)), timeoutMs);
  timer.unref();
  await page.route(
    url,
    async (route) => {
      clearTimeout(timer);
      const request = route.request();
      let response: APIResponse;
      try {
        response = await route.fetch();
      } catch (error) {
        reject(error as Error);
        await route.abort();
        return;
      }
      const text = await response.text();
      try {
        resolve({ request, status: response.status(), body: JSON.parse(text) as T });
      } catch {
        reject(new Error(`${request.url()} answered ${response.status()}, not JSON: ${text.slice(0, 200)}`));
      }
      await route.fulfill({ response });
    },
    { times: 1 },
  );
  return { answer };
}

/** base64 (CDP) → base64url (WebAuthn JSON). */
export function toBase64Url(base64: string): string {
  return Buffer.from(base64, 'base64').toString('base64url');
}

const SCREENSHOT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', 'e2e-screenshots');

/** Saves a full-page screenshot to `e2e-screenshots/<demo>/<name>.png` and prints its path. */
export async function screenshot(page: Page, demo: string, name: string): Promise<string> {
  const dir = join(SCREENSHOT_ROOT, demo);
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot: ${path}`);
  return path;
}
