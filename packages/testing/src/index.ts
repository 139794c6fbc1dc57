/**
 * `@passgate/testing`: a software WebAuthn authenticator and storage fixture builders, usable from any
 * test runner. The vitest suites live in the subpaths `@passgate/testing/conformance`
 * (`describeStorageAdapter`) and `@passgate/testing/contract` (`describeHttpContract`,
 * `describeSharedStoreAcrossProcesses`).
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
