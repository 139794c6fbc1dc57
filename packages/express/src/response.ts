/**
 * Writes a `ContractResponse` verbatim on Express's response (a Node `ServerResponse`).
 * @deprecated Import `writeContractResponse` from `@passgate/core/node` (the same function).
 */
export { writeContractResponse } from '@passgate/core/node';
