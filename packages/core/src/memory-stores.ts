// Placeholder: the in-memory stores are being written (see issue 2).
import type { PassgateStores } from './stores.js';

export interface MemoryStoresOptions {
  /** Most pending ceremonies kept at once. Default 10_000. */
  maxPendingChallenges?: number;
}

export function createMemoryStores(_options: MemoryStoresOptions = {}): PassgateStores {
  throw new Error('not implemented yet');
}
