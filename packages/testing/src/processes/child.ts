// The generic child of `describeSharedStoreAcrossProcesses`: one "instance of the app". It imports the
// stores module named by the parent, builds a Passgate on those stores (RP ID, origin and secret from
// the parent), serves the HTTP contract with node:http on 127.0.0.1 (ephemeral port) and prints
// `{"port":…}` on stdout once listening. It exits when the parent closes its stdin (so a crashed test
// run leaves no orphans), or on SIGTERM, after closing the stores.
import { createServer } from 'node:http';
import { createPassgate } from '@passgate/core';
import { createContractHandler, pathBelow } from '@passgate/core/http';
import { requestPath, toContractRequest, writeContractResponse } from '@passgate/core/node';
import { CHILD_ENV, type SharedStores, type SharedStoresModule } from './types.js';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required (set by describeSharedStoreAcrossProcesses)`);
  return value;
}

const storesModule = required(CHILD_ENV.storesModule);
const rpId = required(CHILD_ENV.rpId);
const origin = required(CHILD_ENV.origin);
const secret = required(CHILD_ENV.secret);

let loaded: Partial<SharedStoresModule>;
try {
  loaded = (await import(storesModule)) as Partial<SharedStoresModule>;
} catch (error) {
  const reason = error instanceof Error ? error.message : String(error);
  throw new Error(
    `could not import the stores module ${storesModule}: ${reason}\n` +
      'If it imports a built package (dist/), build it first (e.g. `pnpm build`).',
  );
}
if (typeof loaded.createStores !== 'function') {
  throw new Error(
    `the stores module ${storesModule} must export createStores(env): Promise<{ stores, close() }>`,
  );
}

let shared: SharedStores | undefined;
let stopping = false;
let server: ReturnType<typeof createServer> | undefined;

function stop(): void {
  if (stopping) return;
  stopping = true;
  server?.closeAllConnections();
  server?.close();
  // Never hang on a stuck connection pool: the parent is waiting for us to exit.
  setTimeout(() => process.exit(0), 5_000).unref();
  Promise.resolve(shared?.close())
    .catch((error: unknown) => console.error(error))
    .finally(() => process.exit(0));
}
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();

// Creating the stores should fail here, before we listen, when the backend is unreachable.
shared = await loaded.createStores(process.env);
if (stopping) {
  // The parent gave up on us while the stores were being created.
  await shared.close().catch(() => {});
  process.exit(0);
}

const passgate = createPassgate({
  rp: { name: 'Passgate shared-store processes test', id: rpId, origins: [origin] },
  secret,
  stores: shared.stores,
});
// The parent's origin is https and this child listens on plain http, as an instance behind a
// TLS-terminating proxy does: say so, rather than have the handler warn (into the user's test output)
// that `trust proxy` is missing, and send Secure cookies as that instance would.
const contract = createContractHandler(passgate, { secureCookies: origin.startsWith('https:') });

server = createServer(async (req, res) => {
  try {
    const below = pathBelow(contract.prefix, requestPath(req.url));
    const response =
      below === undefined
        ? null
        : await contract.handle(toContractRequest(req, below, null, { ip: req.socket.remoteAddress }));
    if (!response) {
      res.writeHead(404).end();
      return;
    }
    writeContractResponse(res, response);
  } catch (error) {
    console.error(error);
    if (!res.headersSent) res.writeHead(500);
    res.end();
  }
});

server.listen(0, '127.0.0.1', () => {
  const address = server?.address();
  process.stdout.write(
    `${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`,
  );
});
