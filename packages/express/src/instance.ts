import type { Passgate } from '@passgate/core';
import type { Request } from 'express';

/** The Passgate instance of the router a request passed through, for the guards. */
const instances = new WeakMap<Request, Passgate>();

export function rememberPassgate(req: Request, passgate: Passgate): void {
  instances.set(req, passgate);
}

export function passgateOf(req: Request): Passgate | undefined {
  return instances.get(req);
}
