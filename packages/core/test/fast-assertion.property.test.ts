/**
 * Differential property test of the sign-in verification fast path: for generated assertions, valid
 * and mutated in every field the library checks, `createAssertionVerifier().verify` must give exactly
 * `verifyAuthenticationResponse`'s verdict (accepted with the same `authenticationInfo`, or rejected
 * with the same error message).
 *
 * Runs per algorithm: PASSGATE_PROPERTY_RUNS, default 1,000 (what `pnpm test` and CI run);
 * `pnpm --filter @passgate/core test:property` runs 10,000 per algorithm. A failure prints the seed
 * and the shrunk case; re-run it with PASSGATE_PROPERTY_SEED.
 */
import { createAssertionVerifier } from '@passgate/core';
import { encodeCbor, type SoftwareAlgorithm, SoftwareAuthenticator } from '@passgate/testing';
import {
  type AuthenticationResponseJSON,
  type VerifyAuthenticationResponseOpts,
  verifyAuthenticationResponse,
} from '@simplewebauthn/server';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';

const RUNS = Number(process.env.PASSGATE_PROPERTY_RUNS ?? 1000);
const SEED = process.env.PASSGATE_PROPERTY_SEED ? Number(process.env.PASSGATE_PROPERTY_SEED) : undefined;
const RP_ID = 'login.example.test';
const ORIGIN = 'https://login.example.test';
const OTHER_ORIGIN = 'https://app.example.test';
const TOP_ORIGIN = 'https://portal.example.test';
const ALGORITHMS: SoftwareAlgorithm[] = ['ES256', 'RS256', 'Ed25519'];
const COSE_ALG: Record<SoftwareAlgorithm, number> = { ES256: -7, RS256: -257, Ed25519: -8 };
const KEYS_PER_ALGORITHM = 3;

interface Credential {
  algorithm: SoftwareAlgorithm;
  authenticator: SoftwareAuthenticator;
  id: string;
  publicKey: Uint8Array<ArrayBuffer>;
}

const credentials: Credential[] = [];

async function makeCredential(algorithm: SoftwareAlgorithm): Promise<Credential> {
  const authenticator = new SoftwareAuthenticator({ algorithms: [algorithm], counter: 'zero' });
  await authenticator.createCredential(
    {
      rp: { id: RP_ID, name: 'Property test' },
      user: {
        id: Buffer.from(`user-${credentials.length}`).toString('base64url'),
        name: 'u',
        displayName: 'u',
      },
      challenge: Buffer.from('registration-challenge').toString('base64url'),
      pubKeyCredParams: [{ type: 'public-key', alg: COSE_ALG[algorithm] }],
    },
    { origin: ORIGIN },
  );
  const [stored] = authenticator.credentials;
  if (!stored) throw new Error('no credential');
  return { algorithm, authenticator, id: stored.id, publicKey: Uint8Array.from(stored.publicKey) };
}

beforeAll(async () => {
  for (const algorithm of ALGORITHMS)
    for (let i = 0; i < KEYS_PER_ALGORITHM; i++) credentials.push(await makeCredential(algorithm));
}, 60_000);

// ---- DER shapes of an ECDSA signature (SEQUENCE { INTEGER r, INTEGER s }, short-form lengths) ----

function derParts(sig: Uint8Array): { r: Uint8Array; s: Uint8Array } | null {
  if (sig[0] !== 0x30 || sig[2] !== 0x02) return null;
  const rLength = sig[3] ?? 0;
  const r = sig.subarray(4, 4 + rLength);
  if (sig[4 + rLength] !== 0x02) return null;
  const sLength = sig[5 + rLength] ?? 0;
  const s = sig.subarray(6 + rLength, 6 + rLength + sLength);
  return { r, s };
}

const integer = (value: Uint8Array) => Buffer.concat([Buffer.from([0x02, value.length]), value]);
const sequence = (body: Buffer, longForm = false) =>
  Buffer.concat([Buffer.from(longForm ? [0x30, 0x81, body.length] : [0x30, body.length]), body]);
const stripZeros = (value: Uint8Array) => {
  let i = 0;
  while (i < value.length - 1 && value[i] === 0) i++;
  return value.subarray(i);
};
const to32 = (value: Uint8Array) => {
  const bare = stripZeros(value);
  const out = Buffer.alloc(32);
  out.set(bare.subarray(Math.max(0, bare.length - 32)), 32 - Math.min(32, bare.length));
  return out;
};

type SignatureShape =
  | 'as-signed'
  | 'bit-flip'
  | 'truncated'
  | 'trailing-byte'
  | 'empty'
  | 'leading-zero'
  | 'der-long-form-length'
  | 'der-padded-r'
  | 'der-unpadded-r'
  | 'der-raw-r-s'
  | 'der-swapped-r-s';

function reshape(signature: Uint8Array, shape: SignatureShape, position: number): Uint8Array {
  const sig = Buffer.from(signature);
  const parts = derParts(sig);
  switch (shape) {
    case 'as-signed':
      return sig;
    case 'bit-flip': {
      const copy = Buffer.from(sig);
      const i = position % Math.max(1, copy.length);
      if (copy.length > 0) copy[i] = (copy[i] ?? 0) ^ (1 << (position % 8));
      return copy;
    }
    case 'truncated':
      return sig.subarray(0, Math.max(0, sig.length - 1 - (position % 4)));
    case 'trailing-byte':
      return Buffer.concat([sig, Buffer.from([position & 0xff])]);
    case 'empty':
      return Buffer.alloc(0);
    case 'leading-zero':
      return Buffer.concat([Buffer.from([0]), sig]);
    case 'der-long-form-length':
      return parts ? sequence(Buffer.concat([integer(parts.r), integer(parts.s)]), true) : sig;
    case 'der-padded-r':
      return parts
        ? sequence(Buffer.concat([integer(Buffer.concat([Buffer.from([0]), parts.r])), integer(parts.s)]))
        : sig;
    case 'der-unpadded-r':
      return parts ? sequence(Buffer.concat([integer(stripZeros(parts.r)), integer(parts.s)])) : sig;
    case 'der-raw-r-s':
      return parts ? Buffer.concat([to32(parts.r), to32(parts.s)]) : sig;
    case 'der-swapped-r-s':
      return parts ? sequence(Buffer.concat([integer(parts.s), integer(parts.r)])) : sig;
  }
}

// ---- The generated case ----

const flagsArb = fc.oneof(
  // Mostly what real authenticators send...
  fc.record({
    up: fc.constant(true),
    uv: fc.boolean(),
    be: fc.boolean(),
    bs: fc.boolean(),
    at: fc.constant(false),
    ed: fc.constant(false),
  }),
  // ...and any combination, AT and ED included.
  fc.record({
    up: fc.boolean(),
    uv: fc.boolean(),
    be: fc.boolean(),
    bs: fc.boolean(),
    at: fc.boolean(),
    ed: fc.boolean(),
  }),
);

const clientDataArb = fc.record({
  type: fc.constantFrom(
    'webauthn.get',
    'webauthn.get',
    'webauthn.get',
    'webauthn.create',
    'payment.get',
    undefined,
  ),
  challenge: fc.constantFrom('expected', 'expected', 'expected', 'other', 'missing', 'number'),
  origin: fc.constantFrom(ORIGIN, ORIGIN, ORIGIN, OTHER_ORIGIN, 'https://evil.example', undefined),
  crossOrigin: fc.constantFrom(undefined, undefined, false, true, 'true', 1),
  topOrigin: fc.constantFrom(undefined, undefined, undefined, TOP_ORIGIN, 'https://other-top.example', ''),
  tokenBinding: fc.constantFrom(
    undefined,
    undefined,
    undefined,
    { status: 'present', id: 'abc' },
    { status: 'supported' },
    { status: 'bogus' },
    'present',
    null,
    [],
  ),
  extra: fc.boolean(),
  shape: fc.constantFrom(
    'object',
    'object',
    'object',
    'object',
    'object',
    'null',
    'array',
    'string',
    'bom',
    'broken-json',
  ),
});

const trailingArb = fc.constantFrom(
  'none',
  'none',
  'none',
  'extensions',
  'bad-cbor',
  'random',
  'attested-credential-data',
);

const anyCaseArb = fc.record({
  key: fc.nat({ max: KEYS_PER_ALGORITHM - 1 }),
  flags: flagsArb,
  counter: fc.oneof(fc.constant(0), fc.nat({ max: 10 }), fc.nat({ max: 0xffffffff })),
  storedCounter: fc.oneof(fc.constant(0), fc.constant(0), fc.nat({ max: 10 })),
  rpIdHash: fc.constantFrom('ours', 'ours', 'ours', 'other-rp', 'random', 'short'),
  clientData: clientDataArb,
  trailing: trailingArb,
  signature: fc.constantFrom<SignatureShape>(
    'as-signed',
    'as-signed',
    'as-signed',
    'bit-flip',
    'truncated',
    'trailing-byte',
    'empty',
    'leading-zero',
    'der-long-form-length',
    'der-padded-r',
    'der-unpadded-r',
    'der-raw-r-s',
    'der-swapped-r-s',
  ),
  position: fc.nat({ max: 10_000 }),
  // Which public key the relying party holds for the credential id: its own, another key of the same
  // algorithm, or one of another algorithm (a key swap).
  storedKey: fc.constantFrom('own', 'own', 'own', 'same-algorithm', 'other-algorithm'),
  encoding: fc.constantFrom(
    'plain',
    'plain',
    'plain',
    'plain',
    'padding',
    'plus',
    'slash',
    'space',
    'std-base64',
  ),
  encodingTarget: fc.constantFrom('authenticatorData', 'signature', 'clientDataJSON'),
  envelope: fc.constantFrom(
    'plain',
    'plain',
    'plain',
    'plain',
    'rawId-differs',
    'type',
    'no-id',
    'userHandle-number',
  ),
  expectedOrigin: fc.constantFrom<string | string[]>(ORIGIN, [OTHER_ORIGIN, ORIGIN], [OTHER_ORIGIN]),
  expectedRPID: fc.constantFrom<string | string[]>(
    RP_ID,
    RP_ID,
    ['other.example.test', RP_ID],
    ['other.example.test'],
    [],
  ),
  expectedTopOrigin: fc.constantFrom<string | string[] | undefined>(undefined, undefined, TOP_ORIGIN, [
    TOP_ORIGIN,
  ]),
  requireUserVerification: fc.constantFrom<boolean | undefined>(undefined, true, false),
});

type Case = typeof anyCaseArb extends fc.Arbitrary<infer T> ? T : never;

/** A valid assertion: what every dimension of a case is when it is not the one mutated. */
function valid(c: Case): Case {
  return {
    ...c,
    flags: { up: true, uv: c.flags.uv, be: c.flags.be, bs: c.flags.be && c.flags.bs, at: false, ed: false },
    storedCounter: 0,
    rpIdHash: 'ours',
    clientData: {
      ...c.clientData,
      type: 'webauthn.get',
      challenge: 'expected',
      origin: ORIGIN,
      crossOrigin: undefined,
      topOrigin: undefined,
      tokenBinding: undefined,
      shape: 'object',
    },
    trailing: 'none',
    signature: 'as-signed',
    storedKey: 'own',
    encoding: 'plain',
    envelope: 'plain',
    expectedOrigin: ORIGIN,
    expectedRPID: RP_ID,
    requireUserVerification: c.flags.uv ? c.requireUserVerification : false,
  };
}

const DIMENSIONS = [
  'flags',
  'storedCounter',
  'rpIdHash',
  'clientData',
  'trailing',
  'signature',
  'storedKey',
  'encoding',
  'envelope',
  'expectedOrigin',
  'expectedRPID',
  'requireUserVerification',
] as const;

/**
 * A third valid assertions, a third valid ones with exactly one dimension mutated (so each check is
 * reached on its own), a third everything generated at once.
 */
const caseArb = fc
  .tuple(
    anyCaseArb,
    fc.constantFrom('valid', 'random', ...DIMENSIONS),
    fc.constantFrom('valid', 'one', 'random'),
  )
  .map(([c, dimension, mode]) => {
    if (mode === 'random') return c;
    const base = valid(c);
    if (mode === 'valid' || dimension === 'valid' || dimension === 'random') return base;
    if (dimension === 'clientData') return { ...base, clientData: c.clientData };
    return { ...base, [dimension]: c[dimension] } as Case;
  });

const CHALLENGE = Buffer.from('the expected challenge, 32 bytes!').toString('base64url');

function clientDataText(c: Case): string {
  const d = c.clientData;
  switch (d.shape) {
    case 'null':
      return 'null';
    case 'array':
      return '[]';
    case 'string':
      return '"webauthn.get"';
    case 'bom':
      return `\uFEFF${JSON.stringify({ type: 'webauthn.get', challenge: CHALLENGE, origin: ORIGIN })}`;
    case 'broken-json':
      return `{"type":"webauthn.get","challenge":"${CHALLENGE}"`;
  }
  const data: Record<string, unknown> = {};
  if (d.type !== undefined) data['type'] = d.type;
  if (d.challenge === 'expected') data['challenge'] = CHALLENGE;
  else if (d.challenge === 'other')
    data['challenge'] = Buffer.from('another challenge').toString('base64url');
  else if (d.challenge === 'number') data['challenge'] = 42;
  if (d.origin !== undefined) data['origin'] = d.origin;
  if (d.crossOrigin !== undefined) data['crossOrigin'] = d.crossOrigin;
  if (d.topOrigin !== undefined) data['topOrigin'] = d.topOrigin;
  if (d.tokenBinding !== undefined) data['tokenBinding'] = d.tokenBinding;
  if (d.extra) data['other_keys_can_be_added_here'] = 'do not compare clientDataJSON against a template';
  return JSON.stringify(data);
}

function trailingBytes(c: Case): Uint8Array | undefined {
  switch (c.trailing) {
    case 'none':
      return undefined;
    case 'extensions':
      return encodeCbor(new Map([['credProtect', 1]]));
    case 'bad-cbor':
      return Uint8Array.from([0xa1, 0x61]);
    case 'random':
      return Uint8Array.from([c.position & 0xff, (c.position >> 8) & 0xff, 7]);
    case 'attested-credential-data':
      // AAGUID (16) + id length 4 + id + a COSE key: what registration sends, here in an assertion.
      return Buffer.concat([
        Buffer.alloc(16),
        Buffer.from([0, 4, 1, 2, 3, 4]),
        Buffer.from(credentials[0]?.publicKey ?? []),
      ]);
  }
}

function reencode(value: string, encoding: Case['encoding']): string {
  switch (encoding) {
    case 'plain':
      return value;
    case 'padding':
      return `${value}==`;
    case 'plus':
      return value.length > 1 ? `${value.slice(0, 1)}+${value.slice(2)}` : '+';
    case 'slash':
      return `/${value.slice(1)}`;
    case 'space':
      return `${value.slice(0, 4)} ${value.slice(4)}`;
    case 'std-base64':
      return Buffer.from(value, 'base64url').toString('base64');
  }
}

async function buildCase(algorithm: SoftwareAlgorithm, c: Case) {
  const own = credentials.filter((k) => k.algorithm === algorithm);
  const credential = own[c.key % own.length] as Credential;
  const rpIdHash =
    c.rpIdHash === 'random'
      ? Uint8Array.from({ length: 32 }, (_, i) => (c.position * (i + 1)) & 0xff)
      : c.rpIdHash === 'short'
        ? new Uint8Array(31)
        : undefined;
  const trailing = trailingBytes(c);
  const assertion = await credential.authenticator.getAssertion(
    { challenge: CHALLENGE, rpId: RP_ID, allowCredentials: [] },
    {
      origin: ORIGIN,
      credentialId: credential.id,
      clientDataJSON: clientDataText(c),
      flags: c.flags,
      counter: c.counter,
      ...(c.rpIdHash === 'other-rp' ? { rpId: 'other.example.test' } : {}),
      ...(rpIdHash ? { rpIdHash } : {}),
      ...(trailing ? { trailingBytes: trailing } : {}),
    },
  );
  const response = structuredClone(assertion) as AuthenticationResponseJSON & Record<string, unknown>;
  const signature = Buffer.from(response.response.signature, 'base64url');
  response.response.signature = Buffer.from(reshape(signature, c.signature, c.position)).toString(
    'base64url',
  );
  const field = c.encodingTarget;
  response.response[field] = reencode(response.response[field], c.encoding);
  switch (c.envelope) {
    case 'rawId-differs':
      response.rawId = `${response.rawId}A`;
      break;
    case 'type':
      (response as { type: string }).type = 'public-key-ish';
      break;
    case 'no-id':
      response.id = '';
      response.rawId = '';
      break;
    case 'userHandle-number':
      (response.response as { userHandle: unknown }).userHandle = 12345;
      break;
  }

  let publicKey = credential.publicKey;
  if (c.storedKey === 'same-algorithm') {
    publicKey = (own[(c.key + 1) % own.length] as Credential).publicKey;
  } else if (c.storedKey === 'other-algorithm') {
    const others = credentials.filter((k) => k.algorithm !== algorithm);
    publicKey = (others[c.position % others.length] as Credential).publicKey;
  }
  const options: VerifyAuthenticationResponseOpts = {
    response,
    expectedChallenge: CHALLENGE,
    expectedOrigin: c.expectedOrigin,
    expectedRPID: c.expectedRPID,
    ...(c.expectedTopOrigin !== undefined ? { expectedTopOrigin: c.expectedTopOrigin } : {}),
    ...(c.requireUserVerification !== undefined
      ? { requireUserVerification: c.requireUserVerification }
      : {}),
    credential: { id: credential.id, publicKey, counter: c.storedCounter },
  };
  return options;
}

type Verdict = { ok: true; info: unknown } | { ok: false; error: string };

async function verdict(
  run: () => Promise<{ verified: boolean; authenticationInfo: unknown }>,
): Promise<Verdict> {
  try {
    const result = await run();
    return result.verified
      ? { ok: true, info: result.authenticationInfo }
      : { ok: false, error: 'verified: false' };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
}

describe.each(ALGORITHMS)('fast path verdict = verifyAuthenticationResponse verdict, %s', (algorithm) => {
  it(`agrees on ${RUNS} generated assertions (valid and mutated)`, { timeout: 600_000 }, async () => {
    const verifier = createAssertionVerifier({ maxCachedKeys: 4 });
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const options = await buildCase(algorithm, c);
        const library = await verdict(() => verifyAuthenticationResponse(structuredClone(options)));
        const fast = await verdict(() => verifier.verify(structuredClone(options)));
        expect(fast).toEqual(library);
        if (library.ok) accepted += 1;
      }),
      { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) },
    );
    // Not vacuous: a good share of the cases are valid, and those were accepted on the fast path
    // (the library accepts a few non-strict DER shapes the fast path hands over to it).
    if (process.env.PASSGATE_PROPERTY_VERBOSE)
      console.log(algorithm, { runs: RUNS, accepted, ...verifier.stats });
    expect(accepted).toBeGreaterThan(RUNS * 0.02);
    expect(verifier.stats.fast).toBeGreaterThan(accepted * 0.5);
    expect(verifier.stats.fast).toBeLessThanOrEqual(accepted);
  });
});
