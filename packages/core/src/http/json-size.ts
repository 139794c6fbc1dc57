/**
 * The size in bytes of `value` as JSON text, for a body a host parser (a global `express.json()`)
 * already turned into a value, without `JSON.stringify`: that recurses, and a body nested a few
 * thousand levels deep makes it throw `RangeError` (which would be a 500 from client input). This
 * walks the value with an explicit stack, and stops as soon as the size passes `limit`, so it
 * costs at most about `limit` steps whatever the value (cycles included).
 *
 * Counts what `JSON.stringify` would write for the values a JSON parser makes (objects, arrays,
 * strings, numbers, booleans, null), strings as UTF-8. Returns a number over `limit` once over.
 */
export function jsonSizeUpTo(value: unknown, limit: number): number {
  let size = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    if (size > limit) return size;
    const next = pending.pop();
    if (next === null || next === undefined || typeof next === 'function' || typeof next === 'symbol') {
      size += 4; // null (what stringify writes for these inside arrays)
    } else if (typeof next === 'string') {
      size += Buffer.byteLength(next, 'utf8') + 2;
    } else if (typeof next === 'number' || typeof next === 'boolean' || typeof next === 'bigint') {
      size += String(next).length;
    } else if (Array.isArray(next)) {
      size += 2 + Math.max(0, next.length - 1);
      for (let i = next.length - 1; i >= 0 && size <= limit; i--) pending.push(next[i]);
    } else if (typeof next === 'object') {
      const keys = Object.keys(next);
      size += 2 + Math.max(0, keys.length - 1);
      for (const key of keys) {
        if (size > limit) break;
        size += Buffer.byteLength(key, 'utf8') + 3; // quotes and colon
        pending.push((next as Record<string, unknown>)[key]);
      }
    }
  }
  return size;
}
