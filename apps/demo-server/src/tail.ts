/**
 * What every Express demo (express-demo, existing-users-demo) ends with, after its own routes.
 */

import { passkeyErrorHandler } from '@passgate/express';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import type { DemoConfig } from './config.js';

/**
 * The demos' shared tail, for `app.use(...)` after every other route: `GET /healthz` answering
 * `{ ok: true, store }` (the store kind only: no URL, nothing secret), a plain-text `404 Not found`
 * for anything no route took, and Passgate's error handler (the contract's error body and status,
 * `503 store_unavailable` included) for an error from any route before it. Two handlers, not one
 * router: an error handler inside a router never sees the errors of the routes before that router.
 */
export function demoRoutesTail(config: Pick<DemoConfig, 'store'>): (RequestHandler | ErrorRequestHandler)[] {
  const routes = express.Router();
  routes.get('/healthz', (_req, res) => {
    res.json({ ok: true, store: config.store });
  });
  routes.use((_req, res) => {
    res.status(404).type('text/plain').send('Not found');
  });
  return [routes, passkeyErrorHandler()];
}
