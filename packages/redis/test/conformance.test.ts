import { describeStorageAdapter } from '@passgate/testing/conformance';
import { createRedisStores } from '../src/index.js';
import { connect, deleteKeys, randomPrefix } from './helpers.js';

const prefix = randomPrefix('conformance');

describeStorageAdapter('redis', async () => {
  const client = connect();
  return {
    stores: createRedisStores({ client, prefix }),
    teardown: async () => {
      await deleteKeys(client, prefix);
      client.disconnect();
    },
  };
});

describeStorageAdapter('redis (Lua consume)', async () => {
  const client = connect();
  const luaPrefix = `${prefix}lua:`;
  return {
    stores: createRedisStores({ client, prefix: luaPrefix, consumeStrategy: 'lua' }),
    teardown: async () => {
      await deleteKeys(client, luaPrefix);
      client.disconnect();
    },
  };
});
