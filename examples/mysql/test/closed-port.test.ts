import { isPassgateError } from '@passgate/core';
import { describe, expect, it } from 'vitest';
import { createMysqlStores } from '../src/index.js';
import { newPool } from './helpers.js';

describe('a closed port', () => {
  it('is store_unavailable, with the driver error as the cause', async () => {
    const pool = newPool({ uri: undefined, host: '127.0.0.1', port: 1, user: 'root' });
    try {
      const error = await createMysqlStores({ pool })
        .credentials.findById('AAAA')
        .catch((e: unknown) => e);
      expect(isPassgateError(error, 'store_unavailable')).toBe(true);
      expect(((error as Error).cause as { code?: string }).code).toBe('ECONNREFUSED');
    } finally {
      await pool.end();
    }
  });
});
