import { randomFillSync } from 'node:crypto';

/**
 * Random bytes from the CSPRNG, drawn in bulk: one `randomFillSync` of 8 KiB serves hundreds of
 * challenges, ceremony ids and session ids instead of one call into OpenSSL each. Every byte is
 * handed out once, and each call gets its own copy (never a view that a later refill could change).
 */
const POOL_BYTES = 8192;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let offset = POOL_BYTES;

/** `size` fresh random bytes (a new Buffer). Sizes above the pool's are read directly. */
export function pooledRandomBytes(size: number): Buffer<ArrayBuffer> {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError('size must be a whole number ≥ 0');
  if (size > POOL_BYTES) return randomFillSync(Buffer.alloc(size));
  if (offset + size > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const bytes = Buffer.alloc(size);
  pool.copy(bytes, 0, offset, offset + size);
  // Used bytes are wiped, so nothing handed out lingers in the pool.
  pool.fill(0, offset, offset + size);
  offset += size;
  return bytes;
}
