import { describeStorageAdapter } from '@passgate/testing/conformance';
import { createPostgresStores, migrate } from '../src/index.js';
import { dropSchema, newPool, randomSchema } from './helpers.js';

describeStorageAdapter('postgres', async () => {
  // The suite's race tests run 50 callers at once: give the pool room for them.
  const pool = newPool({ max: 20 });
  const schema = randomSchema('conf');
  await migrate({ pool, schema });
  const stores = createPostgresStores({ pool, schema });
  return {
    stores,
    teardown: async () => {
      await dropSchema(pool, schema);
      await pool.end();
    },
  };
});
