import { describe } from 'vitest';
import { applicationSignInTests } from './app-sign-in.js';
import { authenticationTests } from './authentication.js';
import { ceremonyTests } from './ceremonies.js';
import { checkTests } from './checks.js';
import { type StartContractApp, useApp } from './harness.js';
import { accountFailureTests, rateLimitTests } from './limits.js';
import { managementTests, outageTests, sessionTests } from './management.js';
import { registrationTests, signUpDisabledTests } from './registration.js';
import { noRelatedOriginTests, RELATED_ORIGINS, relatedOriginTests } from './related-origins.js';

export * from '../processes/index.js';
export { APP_SESSION_COOKIE, type IdentifyRequest, SimulatedApplication } from './application.js';
export {
  type Answer,
  CEREMONY_COOKIE,
  ContractClient,
  type ContractClientOptions,
  findSetCookie,
  ORIGIN,
  PREFIX,
  parseSetCookie,
  RP_ID,
  type SentRequest,
} from './client.js';
export { memoryCookieSessions } from './fetch-session.js';
export {
  expectError,
  prepareSignIn,
  type SignedUp,
  sessionCookies,
  signIn,
  signUp,
  uniqueUsername,
} from './flows.js';
export type { ContractApp, ContractAppOptions, StartContractApp } from './harness.js';
export { RELATED_ORIGINS } from './related-origins.js';

/**
 * The Passgate HTTP contract (`http-api.md`, version 1.1) as a vitest suite, for any framework
 * package: it registers one `describe` block whose groups each build a `Passgate` (memory stores,
 * origin `https://app.example.test`, RP ID `app.example.test`, a clock the suite controls, the
 * group's limits and sign-up setting), call `start` with it, and talk to the returned server over
 * real HTTP with Node's `fetch` and a small cookie jar, like a browser on that origin would.
 *
 * The app must mount the contract at the default prefix `/passkeys` (or return where it serves it as
 * `prefix`, e.g. behind a framework's global prefix) with the default ceremony cookie name, keep
 * sessions in express-session (MemoryStore), pass the suite's `identify` and `onPasskeySignIn` to
 * the integration (the application's own sign-in, simulated by the suite with an
 * `app_session` cookie), listen on 127.0.0.1 on an ephemeral port, and close everything in `close()`.
 *
 * @example
 * describeHttpContract('express', async ({ passgate, identify, onPasskeySignIn }) => {
 *   const app = express();
 *   app.use(session({ secret: 'test', resave: false, saveUninitialized: false }));
 *   app.use(createPasskeyRouter({ passgate, identify, onPasskeySignIn }));
 *   const server = app.listen(0, '127.0.0.1');
 *   await once(server, 'listening');
 *   const { port } = server.address() as AddressInfo;
 *   return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
 * });
 */
export function describeHttpContract(name: string, start: StartContractApp): void {
  describe(`Passgate HTTP contract 1.1: ${name}`, () => {
    describe('sign-up and adding passkeys', () => registrationTests(useApp(start)));
    describe('sign-in', () => authenticationTests(useApp(start)));
    describe('session and logout', () => sessionTests(useApp(start)));
    describe('managing passkeys', () =>
      managementTests(useApp(start, { reauthenticationWindowSeconds: 300 })));
    describe('generic checks: origin, media type, size, schema', () => checkTests(useApp(start)));
    describe('ceremony binding', () => ceremonyTests(useApp(start, { challengeTtlSeconds: 300 })));
    describe('store outage', () => outageTests(useApp(start)));
    describe('related origins: GET /.well-known/webauthn', () =>
      relatedOriginTests(useApp(start, { relatedOrigins: RELATED_ORIGINS })));
    describe('no related origins', () => noRelatedOriginTests(useApp(start)));
    describe('sign-up disabled', () => signUpDisabledTests(useApp(start, { signUp: false })));
    describe("the application's own sign-in", () => applicationSignInTests(useApp(start)));
    describe('per-IP rate limit', () =>
      rateLimitTests(
        useApp(start, { rateLimits: { perIp: { points: 4, durationSeconds: 60 }, accountFailures: false } }),
      ));
    describe('per-account failure limit', () =>
      accountFailureTests(
        useApp(start, { rateLimits: { perIp: false, accountFailures: { points: 2, durationSeconds: 900 } } }),
      ));
  });
}
