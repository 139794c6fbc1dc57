/**
 * `@passgate/testing`: a software WebAuthn authenticator and storage fixture builders, usable from any
 * test runner. The suites live in subpaths: `@passgate/testing/conformance` (`describeStorageAdapter`
 * for vitest; `/conformance/jest` and `/conformance/node-test` for Jest and `node:test`) and the vitest
 * suites of `@passgate/testing/contract` (`describeHttpContract`, `describeSharedStoreAcrossProcesses`).
 */
export * from './authenticator/index.js';
export {
  makeAccount,
  makeCredential,
  makeSignUp,
  randomBase64url,
  randomCeremonyId,
  randomCredentialId,
  randomUserHandle,
  randomUserId,
  randomUsername,
} from './conformance/fixtures.js';
