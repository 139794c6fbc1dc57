import { requestPath as pathOf } from '@passgate/core/node';
import type { Request } from 'express';

/** The request's path from the server root, without the query string. */
export function requestPath(req: Request): string {
  return pathOf(req.originalUrl ?? req.url);
}
