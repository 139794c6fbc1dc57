// Run with `node --test`: the conformance suite registered with node:test.
import { describeStorageAdapter } from '@passgate/testing/conformance/node-test';
import { createFixtureStores, options } from './stores.fixture.mjs';

describeStorageAdapter('memory under node:test', createFixtureStores, options);
