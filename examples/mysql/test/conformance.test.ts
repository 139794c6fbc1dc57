import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { describeStorageAdapter } from '@passgate/testing/conformance';
import { createMysqlStores, dropTables, migrate } from '../src/index.js';
import { newPool, randomPrefix } from './helpers.js';

const tablePrefix = randomPrefix('conf');

describeStorageAdapter(
  'mysql (MariaDB)',
  async () => {
    const pool = newPool();
    await migrate({ pool, tablePrefix });
    return {
      stores: createMysqlStores({ pool, tablePrefix }),
      teardown: async () => {
        await dropTables({ pool, tablePrefix });
        await pool.end();
      },
    };
  },
  {
    // A server that accepts connections and never answers: the pool's connectTimeout (500 ms) fails
    // each call, so every method must give store_unavailable well within 2 s.
    unreachable: async () => {
      const sockets = new Set<Socket>();
      const silent = createServer((socket) => sockets.add(socket)).listen(0, '127.0.0.1');
      await once(silent, 'listening');
      const { port } = silent.address() as { port: number };
      const pool = newPool({ uri: undefined, host: '127.0.0.1', port, user: 'root', connectTimeout: 500 });
      return {
        stores: createMysqlStores({ pool, tablePrefix }),
        close: async () => {
          for (const socket of sockets) socket.destroy();
          silent.close();
          await pool.end().catch(() => {});
        },
      };
    },
    unavailableWithinMs: 2000,
    // The right server, but tables that were never migrated: ER_NO_SUCH_TABLE is a deployment fault.
    misconfigured: () => {
      const pool = newPool({ connectionLimit: 2 });
      return {
        stores: createMysqlStores({ pool, tablePrefix: randomPrefix('missing') }),
        close: () => pool.end(),
      };
    },
    renaming: true,
  },
);
