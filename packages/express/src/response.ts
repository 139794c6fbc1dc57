import type { ContractResponse } from '@passgate/core/http';
import type { Response } from 'express';

/**
 * Writes a `ContractResponse` verbatim: status, headers, every `Set-Cookie` value (appended, so
 * cookies set by the session layer survive) and the JSON body, or no body. No ETag, no content
 * negotiation: what the contract layer decided is what goes out.
 */
export function writeContractResponse(res: Response, response: ContractResponse): void {
  res.status(response.status);
  for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value);
  if (response.cookies.length > 0) res.append('Set-Cookie', response.cookies);
  if (response.body === undefined) {
    res.end();
    return;
  }
  const text = JSON.stringify(response.body);
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}
