import { endsInContractPath, isContractPath, locatePrefix } from '@passgate/core/http';
import type { Request } from 'express';
import { requestPath } from './http.js';

/** Names of body-parser's middleware functions (`express.json()` is `jsonParser`, and so on). */
const PARSER_NAMES = new Set(['jsonParser', 'urlencodedParser', 'textParser', 'rawParser']);

const BYPASS = Symbol.for('passgate.nestjs.bodyParserBypass');
/** The parsers a request skipped, on the request, for `runDeferredBodyParsers`. */
const DEFERRED = Symbol.for('passgate.nestjs.deferredBodyParsers');

type Handle = ((req: Request, res: unknown, next: (error?: unknown) => void) => void) & {
  [BYPASS]?: Set<string>;
};

interface Layer {
  handle?: Handle;
}

/**
 * Whether the parsers must leave this path to the contract layer: everything below the prefix when
 * it is mounted at the root; behind a global prefix (unknown at this level: `/api/passkeys/...`) only
 * the contract's own paths, so an app route that merely contains the prefix keeps its parser. With
 * the root prefix `/`, where everything else is the app's, only paths ending in a contract path.
 */
function isPasskeyRoute(prefix: string, path: string): boolean {
  if (prefix === '/') return endsInContractPath(path);
  const located = locatePrefix(prefix, path);
  if (!located) return false;
  return located.mount === prefix || isContractPath(located.below);
}

/**
 * NestFactory mounts `express.json()` (100 kb) and `express.urlencoded()` on every route, in front
 * of every module's middleware. Left alone, the JSON parser would answer the passkey routes before
 * the contract layer does: its own `413` for a 1 MB body (ahead of `403 forbidden_origin`), its own
 * `400` for bad JSON (ahead of `429`), and it would let 64..100 KiB chunked bodies through.
 *
 * So the app's body-parser layers are made to skip requests under the passkey prefix (the contract
 * layer reads those bodies itself, bounded, exactly as `@passgate/express` does); every other route
 * is parsed as before. Called during `app.init()`, after Nest has mounted its parsers. Layers are
 * found by name (as Nest's own `isMiddlewareApplied` does); an app-specific parser under another
 * name is left alone, and its result is used as an already-parsed body.
 */
export function bypassBodyParsers(expressApp: unknown, prefix: string): number {
  const stack = (expressApp as { router?: { stack?: Layer[] } } | undefined)?.router?.stack;
  if (!Array.isArray(stack)) return 0;
  let wrapped = 0;
  for (const layer of stack) {
    const original = layer.handle;
    if (!original || !PARSER_NAMES.has(original.name)) continue;
    const existing = original[BYPASS];
    if (existing) {
      existing.add(prefix);
      continue;
    }
    const prefixes = new Set([prefix]);
    const bypass: Handle = (req, res, next) => {
      const path = requestPath(req);
      for (const p of prefixes) {
        if (isPasskeyRoute(p, path)) {
          // Kept for the app's own route in case the contract does not serve this path after all
          // (its Nest mount is not known here): see runDeferredBodyParsers.
          const carrier = req as unknown as { [DEFERRED]?: Handle[] };
          carrier[DEFERRED] ??= [];
          carrier[DEFERRED].push(original);
          next();
          return;
        }
      }
      original(req, res, next);
    };
    Object.defineProperty(bypass, 'name', { value: original.name });
    bypass[BYPASS] = prefixes;
    layer.handle = bypass;
    wrapped++;
  }
  return wrapped;
}

/**
 * Runs, in their order, the parsers `bypassBodyParsers` held back from a request that the contract
 * middleware did not answer: an app route whose path only looks like a contract route from here
 * (`/admin/passkeys/login/options`, or a path below the prefix that Nest does not mount the contract
 * at) then gets its body parsed as any other route does. Rejects with the parser's error.
 */
export async function runDeferredBodyParsers(req: Request, res: unknown): Promise<void> {
  const carrier = req as unknown as { [DEFERRED]?: Handle[] };
  const parsers = carrier[DEFERRED];
  if (!parsers) return;
  delete carrier[DEFERRED];
  for (const parser of parsers) {
    await new Promise<void>((resolve, reject) =>
      parser(req, res, (error) => (error ? reject(error) : resolve())),
    );
  }
}
