import { describeStorageAdapter } from '@passgate/testing/conformance';
import { createPostgresStores, migrate } from '../src/index.js';
import { dropSchema, newPool, randomSchema } from './helpers.js';

describeStorageAdapter(
  'postgres',
  async () => {
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
  },
  {
    // A closed port: every method must answer store_unavailable within the suite's 2 s.
    unreachable: () => {
      const pool = newPool({ connectionString: undefined, host: '127.0.0.1', port: 1, user: 'postgres' });
      return { stores: createPostgresStores({ pool, schema: 'public' }), close: () => pool.end() };
    },
    // The right server, a schema never migrated: a deployment fault, not an outage.
    misconfigured: () => {
      const pool = newPool({ max: 2 });
      return {
        stores: createPostgresStores({ pool, schema: randomSchema('missing') }),
        close: () => pool.end(),
      };
    },
    renaming: true,
  },
);
