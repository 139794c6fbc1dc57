import type { Passgate } from '@passgate/core';
import { type ContractHandler, createContractHandler } from '@passgate/core/http';
import { contractHandlerOptions, type PasskeyHttpOptions } from '@passgate/core/node';

/**
 * One contract handler per mount path: behind Nest's global prefix the mount is `/api/passkeys`, and
 * the ceremony cookie's `Path` is the full mount path. Bounded: mounts come from the routes Nest
 * registered, not from clients.
 */
export function contractHandlers(
  passgate: Passgate,
  options: PasskeyHttpOptions<never, never>,
): (mount: string) => ContractHandler {
  const handlers = new Map<string, ContractHandler>();
  return (mount) => {
    let handler = handlers.get(mount);
    if (!handler) {
      handler = createContractHandler(passgate, { ...contractHandlerOptions(options), prefix: mount });
      if (handlers.size < 16) handlers.set(mount, handler);
    }
    return handler;
  };
}
