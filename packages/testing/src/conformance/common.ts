// What every entry point of the conformance suite exports besides its `describeStorageAdapter`.
export type {
  StorageAdapterSuiteOptions,
  StorageAdapterUnderTest,
  StoresHandle,
} from './context.js';
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
} from './fixtures.js';
export { createProgrammaticRunner, type TestOutcome } from './programmatic.js';
export type { TestRunner } from './runner.js';
export { describeStorageAdapterWith, type StorageAdapterSetup } from './suite.js';
