// A stores module for the shared-store child: core's in-memory stores (each child has its own, which
// is enough for what the child prints; the shared-store tests themselves run on real backends).
import { createMemoryStores } from '@passgate/core';

export async function createStores() {
  return { stores: createMemoryStores(), close: async () => {} };
}
