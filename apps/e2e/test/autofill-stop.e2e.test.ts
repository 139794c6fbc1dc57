/**
 * Stopping an autofill sign-in (`signInWithAutofill`'s AbortSignal) after the user picked a passkey, in
 * Chromium with a virtual authenticator: the page must not be told `cancelled` for a sign-in the server
 * made. `@passgate/browser` runs as the demo serves it (its built `dist/`, through the import map), on a
 * page of the demo's origin that runs no script of its own: the demo's page starts its own autofill
 * request on load, which would race the one under test.
 */
import { randomUUID } from 'node:crypto';
import { loadDemoConfig, type RunningDemo, startDemo } from '@passgate/express-demo';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { type BrowserSession, openBrowser } from './browser.js';

/** Where the page under test is served (by `page.route`, never by the demo). */
const PAGE_PATH = '/autofill-stop-test';

/** The demo page's import map, the autofill field, and a client on `window.passkeys`. */
const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>autofill stop</title>
    <script type="importmap">
      {
        "imports": {
          "@passgate/browser": "/vendor/passgate-browser/index.js",
          "@simplewebauthn/browser": "/vendor/simplewebauthn-browser/index.js"
        }
      }
    </script>
    <script type="module">
      import { createPasskeyClient } from '@passgate/browser';
      window.passkeys = createPasskeyClient();
      document.body.dataset.ready = 'yes';
    </script>
  </head>
  <body>
    <input name="username" autocomplete="username webauthn" />
  </body>
</html>`;

describe('stopping autofill in Chromium', () => {
  let demo: RunningDemo;
  let browser: BrowserSession | undefined;

  beforeAll(async () => {
    const config = loadDemoConfig(
      { PORT: '0', SESSION_SECRET: 'e2e-session-secret-not-for-production', PASSGATE_STORE: 'memory' },
      { warn: () => {} },
    );
    demo = await startDemo(config, { log: () => {} });
  });
  afterAll(async () => {
    await demo.close();
  });
  afterEach(async () => {
    await browser?.close();
    browser = undefined;
  });

  /**
   * A fresh browser on the page under test, with an account signed up and signed out again, and the
   * next `login/verify` held once sent (the browser has returned the picked passkey, and the server
   * has not answered yet) until `release()`. `autofill()` starts the autofill sign-in (abortable with
   * `window.autofillAbort`); `outcome()` is what its promise settled with.
   */
  async function signedOutWithVerifyHeld() {
    browser = await openBrowser();
    await browser.addAuthenticator(); // picks at once, in autofill and in a prompt (presence simulation)
    const { page } = browser;
    await page.route(`${demo.url}${PAGE_PATH}`, (route) =>
      route.fulfill({ status: 200, contentType: 'text/html', body: PAGE }),
    );
    await page.goto(`${demo.url}${PAGE_PATH}`);
    await page.waitForSelector('body[data-ready="yes"]');
    const username = `late-${randomUUID().slice(0, 8)}`;
    await page.evaluate(
      `window.passkeys.signUp({ username: ${JSON.stringify(username)} }).then(() => window.passkeys.signOut())`,
    );
    let sent!: () => void;
    const verifySent = new Promise<void>((resolve) => {
      sent = resolve;
    });
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    await page.route(
      '**/passkeys/login/verify',
      async (route) => {
        sent();
        await released;
        await route.continue();
      },
      { times: 1 },
    );
    const autofill = async () => {
      await page.evaluate(`
        window.autofillAbort = new AbortController();
        window.autofill = window.passkeys.signInWithAutofill({ signal: window.autofillAbort.signal }).then(
          (result) => ({ signedInAs: result.user.name }),
          (error) => ({ code: error.code }),
        );
        undefined`);
      await verifySent;
    };
    const session = async () =>
      (await page.evaluate(`fetch('/passkeys/session').then((r) => (r.ok ? r.json() : null))`)) as {
        user: { name: string };
      } | null;
    return { page, username, autofill, release, outcome: () => page.evaluate('window.autofill'), session };
  }

  test('an abort after the user picked a passkey: the page is told signed in, as the server says', async () => {
    const t = await signedOutWithVerifyHeld();
    await t.autofill();
    await t.page.evaluate('window.autofillAbort.abort()');
    t.release();
    expect(await t.outcome()).toEqual({ signedInAs: t.username });
    expect((await t.session())?.user.name).toBe(t.username);
  });

  test('a modal sign-in started after the pick waits for the autofill sign-in, then signs in itself', async () => {
    const t = await signedOutWithVerifyHeld();
    await t.autofill();
    await t.page.evaluate(`
      window.modal = window.passkeys.signIn().then(
        (result) => ({ signedInAs: result.user.name }),
        (error) => ({ code: error.code }),
      );
      undefined`);
    t.release();
    expect(await t.outcome()).toEqual({ signedInAs: t.username });
    expect(await t.page.evaluate('window.modal')).toEqual({ signedInAs: t.username });
    expect((await t.session())?.user.name).toBe(t.username);
  });
});
