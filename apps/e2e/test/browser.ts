/**
 * Debian's Chromium, headless, driven by playwright-core, with CDP virtual authenticators
 * (`WebAuthn.enable` without UI: `enableUI: true` hangs headless; authenticators are added before the
 * page loads, since conditional-mediation and platform-authenticator checks read false until one is).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, type CDPSession, chromium, type Page } from 'playwright-core';

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
  /** Resolves with the first event (already seen or future) that matches. */
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
    waitForEvent(match, timeoutMs = 5000) {
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
