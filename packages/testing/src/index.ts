export * from './authenticator/index.js';
export * from './conformance/index.js';
