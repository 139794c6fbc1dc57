import {
  asPasskeySession,
  expressSessionAdapter,
  hooksAdapter,
  type SessionAdapter as NodeSessionAdapter,
  SESSION_KEY,
} from '@passgate/core/node';
import type { Request, Response } from 'express';

/**
 * How the router reads and writes sign-ins, whatever the mode, on Express's request and response.
 * @deprecated Use `SessionAdapter<Request, Response>` from `@passgate/core/node`.
 */
export type SessionAdapter = NodeSessionAdapter<Request, Response>;

/**
 * `asPasskeySession`, `expressSessionAdapter`, `hooksAdapter` and `SESSION_KEY` live in
 * `@passgate/core/node`, shared by every integration; re-exported here for existing imports.
 * @deprecated Import them from `@passgate/core/node`.
 */
export { asPasskeySession, expressSessionAdapter, hooksAdapter, SESSION_KEY };
