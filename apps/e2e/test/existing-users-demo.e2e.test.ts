/**
 * The existing-users demo (password accounts with passport, passkeys added through `identify`) in
 * Debian's Chromium with CDP virtual authenticators: the real adoption path of issue 10.
 */
import { randomUUID } from 'node:crypto';
import { startExistingUsersDemo } from '@passgate/existing-users-demo';
import { loadDemoConfig } from '@passgate/express-demo';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import {
  type BrowserSession,
  catchAnswer,
  openBrowser,
  passkeyButtonSignInDuringOutage,
  screenshot,
  signOutKeepingAutofillPending,
  toBase64Url,
} from './browser.js';
import type { StartedDemo } from './browser-suite.js';

const sel = (testId: string) => `[data-testid="${testId}"]`;
/** The account page, also as `/account?offer` (right after a password sign-in, before the page tidies the URL). */
const ACCOUNT = /\/account(\?offer)?$/;
const shot = (page: Page, name: string) => screenshot(page, 'existing-users', name);
const uniqueEmail = (name: string) => `${name}-${randomUUID().slice(0, 8)}@example.com`;
const PASSWORD = 'correct horse battery staple';
/**
 * The sensitive-action window (`PASSGATE_REAUTH_SECONDS`) of the re-authentication tests: long enough
 * for a sign-in and the passkey steps that follow it to land inside it on a loaded machine.
 */
const REAUTH_SECONDS = 5;

describe('existing-users demo in Chromium', () => {
  let demo: StartedDemo;
  const started: StartedDemo[] = [];
  const browsers: BrowserSession[] = [];

  /** A fresh demo (its own in-memory state) with these contract environment overrides. */
  const startDemo = async (env: Record<string, string> = {}) => {
    const config = loadDemoConfig(
      {
        PORT: '0',
        SESSION_SECRET: 'e2e-session-secret-not-for-production',
        PASSGATE_STORE: 'memory',
        ...env,
      },
      { warn: () => {} },
    );
    const running = await startExistingUsersDemo(config, { log: () => {} });
    started.push(running);
    return running;
  };

  beforeAll(async () => {
    demo = await startDemo();
  });
  afterAll(async () => {
    await Promise.all(started.map((d) => d.close()));
  });
  afterEach(async () => {
    await Promise.all(browsers.splice(0).map((b) => b.close()));
  });

  const open = async () => {
    const b = await openBrowser();
    browsers.push(b);
    return b;
  };

  async function gotoHome(page: Page) {
    await page.goto(demo.url);
    await page.waitForSelector('body[data-view="signed-out"]');
  }

  async function passwordSignIn(page: Page, email: string, password: string) {
    await gotoHome(page);
    await page.fill(sel('sign-in-email'), email);
    await page.fill(sel('sign-in-password'), password);
    await page.click(sel('password-sign-in'));
    await page.waitForURL(ACCOUNT);
    await page.waitForSelector('body[data-view="account"]');
  }

  /** A password sign-up (signed in with the password), then the offer accepted: one passkey. */
  async function signUpWithPasskey(page: Page, url: string, email: string): Promise<string> {
    await page.goto(url);
    await page.waitForSelector('body[data-view="signed-out"]');
    await page.fill(sel('sign-up-email'), email);
    await page.fill(sel('sign-up-password'), PASSWORD);
    await page.click(sel('sign-up'));
    await page.waitForURL(ACCOUNT);
    await page.locator(sel('passkey-offer')).waitFor({ state: 'visible' });
    const verify = await catchAnswer<{ credential: { id: string } }>(page, '**/passkeys/register/verify');
    await page.click(sel('offer-accept'));
    const saved = await verify.answer;
    expect(saved.status).toBe(200);
    await expect.poll(() => page.locator(sel('passkey')).count()).toBe(1);
    return saved.body.credential.id;
  }

  const passkeyItem = (page: Page, credentialId: string) =>
    page.locator(`${sel('passkey')}[data-credential-id="${credentialId}"]`);

  /** Deletes a passkey past the sensitive-action window: the first DELETE is refused for a step-up. */
  async function deleteAfterWindow(page: Page, credentialId: string) {
    const refused = page.waitForResponse(
      (r) => r.url().endsWith(`/passkeys/credentials/${credentialId}`) && r.request().method() === 'DELETE',
    );
    const item = passkeyItem(page, credentialId);
    await item.locator(sel('delete')).click();
    await item.locator(sel('delete-confirm')).click();
    const first = await refused;
    expect(first.status()).toBe(401);
    expect(((await first.json()) as { error: { code: string } }).error.code).toBe(
      'reauthentication_required',
    );
  }

  const pastWindow = () => new Promise((resolve) => setTimeout(resolve, REAUTH_SECONDS * 1000 + 500));

  const accountUserId = (page: Page) => page.textContent(sel('account-user-id'));
  const signedInWith = (page: Page) => page.getAttribute('body', 'data-signed-in-with');
  const apiStatus = (page: Page, path: string) => page.evaluate(async (p) => (await fetch(p)).status, path);

  test('password sign-up → password sign-in → passkey → sign out → passkey sign-in as the same user → deleted from a second browser ends that session', async () => {
    const b = await open();
    const authenticatorId = await b.addAuthenticator();
    const { page } = b;
    const email = `ada-${randomUUID().slice(0, 8)}@example.com`;
    const password = 'correct horse battery staple';

    // Password sign-up: the app's own account, signed in with passport.
    await gotoHome(page);
    // No passkey for this site yet: the autofill request ends or stays open, quietly.
    await page.waitForSelector('body[data-autofill="failed"], body[data-autofill="pending"]');
    expect(await page.locator(sel('status')).isHidden()).toBe(true);
    await shot(page, '01-home');
    await page.fill(sel('sign-up-email'), email);
    await page.fill(sel('sign-up-display-name'), 'Ada Lovelace');
    await page.fill(sel('sign-up-password'), password);
    // The page's quiet upgrade after the sign-up (below) asks for these options.
    const conditional = page.waitForResponse((r) => r.url().endsWith('/passkeys/register/options'));
    await page.click(sel('sign-up'));
    await page.waitForURL(ACCOUNT);
    await page.waitForSelector('body[data-view="account"]');
    const userId = await accountUserId(page);
    expect(userId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await signedInWith(page)).toBe('password');
    expect(await page.textContent(sel('account-email'))).toBe(email);
    await page.locator(sel('passkey-offer')).waitFor({ state: 'visible' });
    expect(await page.locator(sel('no-passkeys')).isVisible()).toBe(true);

    // The quiet upgrade: headless Chromium reports conditionalCreate as supported, so the page asks
    // the server for a conditional ceremony and the browser for a conditional create. With the
    // virtual authenticator nothing is ever saved that way (no password manager decides to save):
    // the request stays open (or is declined); the offer card stays for the user.
    const capabilities = await page.evaluate(`import('@passgate/browser').then((c) =>
      c.createPasskeyClient().getCapabilities())`);
    expect((capabilities as { conditionalCreate: string }).conditionalCreate).toBe('supported');
    const asked = await conditional;
    expect(asked.status()).toBe(200);
    expect(asked.request().postDataJSON()).toEqual({ mediation: 'conditional' });
    await page.waitForTimeout(3000);
    const upgrade = await page.getAttribute('body', 'data-upgrade');
    console.log(`conditional create with the virtual authenticator, 3 s on: ${upgrade}`);
    expect(['pending', 'declined']).toContain(upgrade);
    expect(b.events.filter((e) => e.name === 'credentialAdded')).toEqual([]);
    expect(await b.credentials(authenticatorId)).toEqual([]);
    await shot(page, '02-account-passkey-offered');

    // Sign out (ends the whole session, passport's login too), then the password again.
    await page.click(sel('sign-out'));
    await page.waitForURL('**/?signed-out');
    await page.waitForSelector('body[data-view="signed-out"]');
    expect(await apiStatus(page, '/api/me')).toBe(401);
    await passwordSignIn(page, email, password);
    expect(await accountUserId(page)).toBe(userId);
    expect(await signedInWith(page)).toBe('password');

    // Accept the offer: a passkey for the password user (the pending quiet request is aborted).
    await page.locator(sel('passkey-offer')).waitFor({ state: 'visible' });
    const verify = page.waitForResponse((r) => r.url().endsWith('/passkeys/register/verify'));
    await page.click(sel('offer-accept'));
    expect((await verify).status()).toBe(200);
    await expect.poll(() => page.locator(sel('passkey')).count()).toBe(1);
    await expect.poll(() => page.locator(sel('status')).textContent()).toMatch(/Passkey saved/);
    expect(await page.locator(sel('passkey-offer')).isHidden()).toBe(true);
    const added = await b.waitForEvent((e) => e.name === 'credentialAdded');
    expect(added.credential?.userName).toBe(email);
    expect(added.credential?.userDisplayName).toBe('Ada Lovelace');
    // The user handle is random, never the app's user id.
    expect(Buffer.from(added.credential?.userHandle ?? '', 'base64').toString()).not.toContain(userId);
    const credentialId = toBase64Url(added.credential?.credentialId ?? '');
    expect(await page.locator(sel('passkey')).first().getAttribute('data-credential-id')).toBe(credentialId);
    await shot(page, '03-account-with-passkey');

    // Sign out: the home page's autofill (conditional mediation, picked at once by the virtual
    // authenticator) signs the same user in with the passkey, and passport's session with it.
    // The answer is read on its way to the page, which navigates to the account as soon as it has it.
    const autofillVerify = await catchAnswer<{ user: { id: string } }>(page, '**/passkeys/login/verify');
    await page.click(sel('sign-out'));
    const signedIn = await autofillVerify.answer;
    expect(signedIn.status).toBe(200);
    expect(signedIn.body.user.id).toBe(userId);
    await page.waitForURL(ACCOUNT);
    await page.waitForSelector('body[data-view="account"]');
    expect(await accountUserId(page)).toBe(userId);
    expect(await signedInWith(page)).toBe('passkey');
    await page.locator(sel('passkey-current')).waitFor({ state: 'visible' });
    expect(await page.locator(sel('passkey-offer')).isHidden()).toBe(true);
    await shot(page, '04-signed-in-with-passkey');

    // A second browser (another device) signs in with the password and deletes the passkey.
    const other = await open();
    await passwordSignIn(other.page, email, password);
    expect(await accountUserId(other.page)).toBe(userId);
    await expect.poll(() => other.page.locator(sel('passkey')).count()).toBe(1);
    const deleted = other.page.waitForResponse((r) =>
      r.url().endsWith(`/passkeys/credentials/${credentialId}`),
    );
    await other.page.click(sel('delete'));
    await other.page.click(sel('delete-confirm'));
    expect((await deleted).status()).toBe(200);
    await expect.poll(() => other.page.locator(sel('passkey')).count()).toBe(0);
    expect(await apiStatus(other.page, '/api/me')).toBe(200); // the password session stays
    await shot(other.page, '05-deleted-from-second-browser');

    // The first browser's session was made with that passkey: it has ended.
    expect(await apiStatus(page, '/api/me')).toBe(401);
    expect(await apiStatus(page, '/passkeys/session')).toBe(401);
    await page.goto(`${demo.url}/account`);
    await page.waitForSelector('body[data-view="signed-out"]');
    await shot(page, '06-first-browser-signed-out');
  });

  test('a wrong password shows a clear message and signs nobody in', async () => {
    const { page } = await open();
    await gotoHome(page);
    await page.fill(sel('sign-in-email'), `nobody-${randomUUID().slice(0, 8)}@example.com`);
    await page.fill(sel('sign-in-password'), 'not the password');
    await page.click(sel('password-sign-in'));
    await expect.poll(() => page.locator(sel('status')).textContent()).toMatch(/do not match an account/);
    expect(await page.getAttribute(sel('status'), 'data-code')).toBe('invalid_credentials');
    expect(await apiStatus(page, '/api/me')).toBe(401);
  });

  test('after a failed passkey-button sign-in the email field offers the passkeys again (autofill restarts)', async () => {
    const b = await open();
    const platform = await b.addAuthenticator();
    const { page } = b;
    await signUpWithPasskey(page, demo.url, uniqueEmail('rosalind'));
    await signOutKeepingAutofillPending(b, platform);

    // The modal ceremony replaces the autofill request, and its verify fails (an outage).
    expect(await passkeyButtonSignInDuringOutage(page)).toBe(503);
    // Autofill is offered again, and (picked at once by the virtual authenticator) signs in.
    await page.waitForURL(ACCOUNT);
    await page.waitForSelector('body[data-view="account"]');
    expect(await signedInWith(page)).toBe('passkey');
  });

  test('a password session deletes its passkey past the window and the step-up signs in with that passkey: the page goes to the signed-out home', async () => {
    const strict = await startDemo({ PASSGATE_REAUTH_SECONDS: String(REAUTH_SECONDS) });
    const b = await open();
    await b.addAuthenticator();
    const { page } = b;
    const credentialId = await signUpWithPasskey(page, strict.url, uniqueEmail('lise'));
    expect(await signedInWith(page)).toBe('password');
    // The session shown was made with the password, not with the passkey about to be deleted.
    expect(await passkeyItem(page, credentialId).locator(sel('passkey-current')).isHidden()).toBe(true);

    await pastWindow();
    // The only passkey signs the step-up in, so the session is then made with it and ends with it.
    await deleteAfterWindow(page, credentialId);
    await page.waitForURL('**/?passkey-deleted');
    await page.waitForSelector('body[data-view="signed-out"]');
    const status = page.locator(sel('status'));
    await expect.poll(() => status.getAttribute('data-kind')).toBe('info');
    await expect.poll(() => status.textContent()).toMatch(/signed out/i);
    expect(await apiStatus(page, '/api/me')).toBe(401);
    expect(await apiStatus(page, '/passkeys/session')).toBe(401);
  });

  test('deleting the passkey this session was made with past the window, the step-up signing in with another: the page stays signed in', async () => {
    const strict = await startDemo({ PASSGATE_REAUTH_SECONDS: String(REAUTH_SECONDS) });
    const b = await open();
    const platform = await b.addAuthenticator();
    const { page } = b;
    const email = uniqueEmail('emmy');
    const current = await signUpWithPasskey(page, strict.url, email);

    // Sign out: the home page's autofill signs in with that passkey (the session is now made with it).
    // Its answer is awaited first: until the page has left the account, that page still matches
    // ACCOUNT, and its attributes could be read just as it navigates to the home page.
    const autofillVerify = await catchAnswer<{ user: { id: string } }>(page, '**/passkeys/login/verify');
    await page.click(sel('sign-out'));
    expect((await autofillVerify.answer).status).toBe(200);
    await page.waitForURL(ACCOUNT);
    await page.waitForSelector('body[data-view="account"]');
    expect(await signedInWith(page)).toBe('passkey');
    await passkeyItem(page, current).locator(sel('passkey-current')).waitFor({ state: 'visible' });

    // A security key, added inside the window of that sign-in; the platform authenticator stays silent
    // from here on, so the key answers both this ceremony and the step-up below.
    const key = await b.addAuthenticator({ transport: 'usb' });
    await b.cdp.send('WebAuthn.setAutomaticPresenceSimulation', {
      authenticatorId: platform,
      enabled: false,
    });
    await page.click(sel('add-security-key'));
    await expect.poll(() => page.locator(sel('passkey')).count()).toBe(2);
    const added = await b.waitForEvent((e) => e.name === 'credentialAdded' && e.authenticatorId === key);
    const other = toBase64Url(added.credential!.credentialId);

    const navigations: string[] = [];
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) navigations.push(frame.url());
    });
    await pastWindow();
    await deleteAfterWindow(page, current);
    // The step-up signed in with the key's passkey: the session stands, made with that one now.
    await expect.poll(() => page.locator(sel('status')).textContent()).toMatch(/Passkey deleted/);
    await expect.poll(() => page.locator(sel('passkey')).count()).toBe(1);
    await passkeyItem(page, other).locator(sel('passkey-current')).waitFor({ state: 'visible' });
    expect(await apiStatus(page, '/api/me')).toBe(200);
    expect(navigations).toEqual([]);
    expect(page.url()).toMatch(ACCOUNT);
  });
});
