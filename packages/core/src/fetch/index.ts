export { createFetchHandler, type FetchHandler } from './handler.js';
export type { FetchHandlerOptions, FetchRequestInfo, FetchSessionHooks } from './options.js';
export { readLimitedBody } from './read-body.js';
