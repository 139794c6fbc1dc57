export { describeSharedStoreAcrossProcesses, type SharedStoreProcessesOptions } from './describe.js';
export type { SharedStores, SharedStoresModule } from './types.js';
