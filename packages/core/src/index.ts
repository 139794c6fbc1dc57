export * from './errors.js';
export { createMemoryStores, type MemoryStoresOptions } from './memory-stores.js';
export type * from './stores.js';
export type * from './types.js';
