import { createMemoryStores, type Passgate, type PassgateStores, type PasskeySession } from '@passgate/core';
import { type ContractHandler, type ContractResponse, createContractHandler } from '@passgate/core/http';
import { SoftwareAuthenticator } from '@passgate/testing';
import {
  b64,
  loadVectors,
  makePassgate,
  ORIGIN,
  START,
  seedVectorCredential,
  TEST_ROOT_PEM,
  type Vector,
} from '../helpers.js';

/**
 * What the fuzz cases run against: the contract handler of `@passgate/core/http` (every endpoint,
 * every generic check, cookies and sessions, exactly what Express and NestJS serve) on memory stores,
 * with rate limits off so cases reach the ceremonies' own checks.
 */

export type Body = { raw: string | Uint8Array } | { parsed: unknown } | { none: true };

export interface Sent {
  method: string;
  path: string;
  body: Body;
  cookie?: string | undefined;
  session?: PasskeySession | null;
  origin?: string;
  contentType?: string;
}

export interface Answered {
  response: ContractResponse;
  ms: number;
}

/** Sends one request through the handler; never throws for an answer (a throw is a finding). */
export async function send(handler: ContractHandler, sent: Sent, origin = ORIGIN): Promise<Answered> {
  const headers: Record<string, string> = { origin: sent.origin ?? origin };
  let body: Parameters<ContractHandler['handle']>[0]['body'] = { kind: 'none' };
  if ('raw' in sent.body) {
    const bytes = typeof sent.body.raw === 'string' ? Buffer.from(sent.body.raw) : Buffer.from(sent.body.raw);
    headers['content-type'] = sent.contentType ?? 'application/json';
    headers['content-length'] = String(bytes.length);
    body = {
      kind: 'stream',
      async read(limit) {
        if (bytes.length > limit) {
          const { PassgateError } = await import('@passgate/core');
          throw new PassgateError('payload_too_large');
        }
        return new Uint8Array(bytes);
      },
    };
  } else if ('parsed' in sent.body) {
    headers['content-type'] = sent.contentType ?? 'application/json';
    body = { kind: 'parsed', value: sent.body.parsed };
  }
  if (sent.cookie) headers['cookie'] = sent.cookie;
  const started = performance.now();
  const response = await handler.handle({
    method: sent.method,
    path: sent.path,
    headers,
    protocol: 'https',
    ip: '203.0.113.7',
    body,
    session: sent.session ?? null,
  });
  const ms = performance.now() - started;
  // No route (e.g. `PATCH /credentials/` with an empty id): the framework's own 404.
  if (!response) return { response: { status: 404, headers: {}, cookies: [], body: undefined }, ms };
  return { response, ms };
}

/** `name=value` of the ceremony cookie an options answer set. */
export function ceremonyCookie(response: ContractResponse): string | undefined {
  const set = response.cookies.find((c) => c.startsWith('passgate_ceremony='));
  return set?.split(';')[0];
}

export const ENDPOINTS = [
  ['POST', '/register/options'],
  ['POST', '/register/verify'],
  ['POST', '/login/options'],
  ['POST', '/login/verify'],
  ['GET', '/session'],
  ['POST', '/logout'],
  ['GET', '/credentials'],
  ['PATCH', '/credentials/AAAAAAAAAAAAAAAAAAAAAA'],
  ['DELETE', '/credentials/AAAAAAAAAAAAAAAAAAAAAA'],
] as const;

export interface AppTarget {
  passgate: Passgate;
  handler: ContractHandler;
  /** A signed-up account's authenticator and its session (for management endpoints). */
  authenticator: SoftwareAuthenticator;
  username: string;
  session: PasskeySession;
  /** Errors the instance logged: a bug would show up here as well as in a 500. */
  logged: string[];
  /** The harness's event log (see `makePassgate`), emptied after every case by the fuzz. */
  events: unknown[];
}

let names = 0;
export const freshName = () => `fuzz-${process.pid}-${++names}`;

export async function appTarget(): Promise<AppTarget> {
  const logged: string[] = [];
  // Few pending ceremonies kept (the oldest is dropped past the cap): each case verifies its own
  // right away, and abandoned ones (most random bodies) would otherwise fill the heap to the
  // default cap of 10,000 over a long run and hide what the heap check looks for.
  const clock = { now: START };
  const stores = createMemoryStores({ now: () => clock.now, maxPendingChallenges: 1000 });
  const h = makePassgate(
    {
      rateLimits: { perIp: false, accountFailures: false },
      reauthenticationWindowSeconds: 3600,
      logger: { debug() {}, info() {}, warn() {}, error: (m) => void logged.push(m) },
    },
    { stores, clock },
  );
  // The harness's clock is fixed; ceremonies must not expire between options and verify.
  const handler = createContractHandler(h.passgate);
  const authenticator = new SoftwareAuthenticator({ algorithms: ['ES256'] });
  const username = freshName();
  const options = await send(handler, {
    method: 'POST',
    path: '/register/options',
    body: { raw: JSON.stringify({ username }) },
  });
  const created = await authenticator.createCredential(options.response.body as never, { origin: ORIGIN });
  const verified = await send(handler, {
    method: 'POST',
    path: '/register/verify',
    body: { raw: JSON.stringify(created) },
    cookie: ceremonyCookie(options.response),
  });
  const action = verified.response.sessionAction;
  if (verified.response.status !== 200 || action?.type !== 'sign_in') {
    throw new Error(`fuzz target sign-up failed: ${JSON.stringify(verified.response.body)}`);
  }
  return {
    passgate: h.passgate,
    handler,
    authenticator,
    username,
    session: action.session,
    logged,
    events: h.events,
  };
}

/**
 * The W3C vectors' RP (example.org), with `direct` attestation trusting the vectors' root, so
 * mutated attestation statements of every format reach the attestation checks. The challenge store
 * rewrites each consumed ceremony to the vector's challenge (the core makes its own random ones).
 */
export interface VectorTarget {
  handler: ContractHandler;
  vectors: Vector[];
  /** The vector whose challenge the next consumed ceremony gets. */
  use(vector: Vector, kind: 'registration' | 'authentication'): void;
  logged: string[];
  events: unknown[];
}

export async function vectorTarget(): Promise<VectorTarget> {
  const { vectors } = loadVectors();
  const base = createMemoryStores({ maxPendingChallenges: 1000 });
  let next: { vector: Vector; kind: 'registration' | 'authentication' } | undefined;
  const stores: PassgateStores = {
    ...base,
    challenges: {
      put: (id, value, ttl) => base.challenges.put(id, value, ttl),
      async consume(id) {
        const value = await base.challenges.consume(id);
        if (value === null || !next) return value;
        const state = JSON.parse(value) as Record<string, unknown>;
        state['challenge'] = next.vector[next.kind].challenge;
        if (next.kind === 'registration') {
          state['algorithms'] = [
            ...new Set([...(state['algorithms'] as number[]), ...vectors.map((v) => v.alg)]),
          ];
        }
        return JSON.stringify(state);
      },
    },
  };
  const logged: string[] = [];
  const h = makePassgate({
    stores,
    rp: { id: 'example.org', origins: ['https://example.org'], topOrigins: ['https://example.com'] },
    policy: {
      attestation: {
        conveyance: 'direct',
        allowSelfAttestation: true,
        rootCertificates: Object.fromEntries(
          ['packed', 'tpm', 'android-key', 'apple', 'fido-u2f'].map((fmt) => [fmt, [TEST_ROOT_PEM]]),
        ),
      },
    },
    rateLimits: { perIp: false, accountFailures: false },
    logger: { debug() {}, info() {}, warn() {}, error: (m) => void logged.push(m) },
  });
  // Every vector's credential is stored, so assertions reach the signature check.
  for (const v of vectors) {
    await seedVectorCredential(base, v, b64(Buffer.alloc(32, vectors.indexOf(v) + 1)));
  }
  return {
    handler: createContractHandler(h.passgate),
    vectors,
    use(vector, kind) {
      next = { vector, kind };
    },
    logged,
    events: h.events,
  };
}
