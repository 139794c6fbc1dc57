import { pooledRandomBytes } from '@passgate/core';
import { describe, expect, it } from 'vitest';

describe('pooledRandomBytes', () => {
  it('hands out fresh bytes of the asked size, never the same twice, across refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const bytes = pooledRandomBytes(32);
      expect(bytes.length).toBe(32);
      seen.add(bytes.toString('hex'));
    }
    expect(seen.size).toBe(2000);
    expect(pooledRandomBytes(0).length).toBe(0);
    expect(pooledRandomBytes(20_000).length).toBe(20_000);
    expect(() => pooledRandomBytes(-1)).toThrow(RangeError);
  });

  it('returns copies: a refill never changes bytes already handed out', () => {
    const first = pooledRandomBytes(24);
    const copy = Buffer.from(first);
    for (let i = 0; i < 1000; i++) pooledRandomBytes(24);
    expect(first.equals(copy)).toBe(true);
    expect(first.buffer.byteLength).toBe(24);
  });
});
