// Run with Jest (ESM: NODE_OPTIONS=--experimental-vm-modules): the conformance suite on Jest's globals.
import { describeStorageAdapter } from '@passgate/testing/conformance/jest';
import { createFixtureStores, options } from './stores.fixture.mjs';

describeStorageAdapter('memory under jest', createFixtureStores, options);
