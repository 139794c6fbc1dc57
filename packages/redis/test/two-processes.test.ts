import { describeSharedStoreAcrossProcesses } from '@passgate/testing/contract';
import type { Redis } from 'ioredis';
import { expect } from 'vitest';
import { createKeySpace } from '../src/index.js';
import { connect, deleteKeys, REDIS_URL, randomPrefix } from './helpers.js';

// Two OS processes (two "instances of the app") share one Redis (one key prefix). The children import
// the BUILT adapter (`dist/`, via fixtures/stores.mjs), as an application would: run `pnpm build` first.

const prefix = randomPrefix('2proc');
let client: Redis | undefined;

describeSharedStoreAcrossProcesses('Redis (one key prefix)', {
  storesModule: new URL('./fixtures/stores.mjs', import.meta.url),
  env: { REDIS_URL, PASSGATE_PREFIX: prefix },
  setup: () => {
    client = connect();
  },
  expectCredentialStored: async (credentialId) => {
    expect(await client!.exists(createKeySpace(prefix).credential(credentialId))).toBe(1);
  },
  teardown: async () => {
    if (!client) return;
    try {
      await deleteKeys(client, prefix);
    } finally {
      client.disconnect();
    }
  },
});
