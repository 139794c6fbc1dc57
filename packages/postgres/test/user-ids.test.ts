import { createPassgate } from '@passgate/core';
import { describe, expect, it } from 'vitest';
import { migratedSchemaForFile } from './helpers.js';

/**
 * The application's own user ids reach PostgreSQL in the server-side operations on users. A U+0000
 * in one is not text PostgreSQL can hold (22021): such an id names no account, never a 500.
 */
const { stores } = migratedSchemaForFile('user_ids');

describe('user ids PostgreSQL cannot hold', () => {
  it('a U+0000 or a lone surrogate names no user: empty lists, nothing to delete, no store error', async () => {
    const passgate = createPassgate({
      rp: { name: 'user ids', id: 'example.test', origins: ['https://example.test'] },
      stores,
      secret: 'user-id-test-secret-0123456789abcdef',
    });
    for (const userId of ['a\u0000b', 'x\uD800']) {
      expect(await passgate.listUserCredentials(userId)).toEqual([]);
      expect(await passgate.revokeAllCredentials(userId)).toEqual([]);
      expect(await passgate.deletePasskeyAccount(userId)).toBe(false);
    }
  });
});
