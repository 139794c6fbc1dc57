import { expectError, signUp } from '@passgate/testing/contract';
import { afterEach, describe, expect, it } from 'vitest';
import { PasskeysModule } from '../src/index.js';
import {
  AdminPasskeysController,
  type Booted,
  boot,
  bootFastify,
  browser,
  type GlobalPrefixOptions,
  rawJson,
  testPassgate,
} from './helpers.js';

let booted: Booted | undefined;
afterEach(async () => {
  await booted?.close();
  booted = undefined;
});

const PLATFORMS = [
  ['express', boot],
  ['fastify', bootFastify],
] as const;

interface Shape {
  /** The module's `prefix`. */
  prefix: string;
  globalPrefix: string;
  globalPrefixOptions?: GlobalPrefixOptions;
  /** Where Nest mounts the contract. */
  mount: string;
  /** Paths below which Nest does not mount it, though they hold the prefix. */
  elsewhere: string[];
}

/**
 * Global prefixes that hold the module's prefix, or its text: the contract is where Nest mounts it
 * (the global prefix, then the module's), whatever the path looks like around it.
 */
const SHAPES: [string, Shape][] = [
  [
    "the global prefix is the module's prefix",
    {
      prefix: '/passkeys',
      globalPrefix: 'passkeys',
      mount: '/passkeys/passkeys',
      elsewhere: ['/passkeys', '/passkeys/passkeys/passkeys'],
    },
  ],
  [
    "the global prefix ends in the module's prefix",
    {
      prefix: '/passkeys',
      globalPrefix: 'api/passkeys',
      mount: '/api/passkeys/passkeys',
      elsewhere: ['/api/passkeys', '/passkeys', '/api/passkeys/passkeys/passkeys'],
    },
  ],
  [
    "the global prefix is the module's prefix of two segments",
    {
      prefix: '/auth/passkeys',
      globalPrefix: 'auth/passkeys',
      mount: '/auth/passkeys/auth/passkeys',
      elsewhere: ['/auth/passkeys', '/auth/passkeys/passkeys'],
    },
  ],
  [
    "the global prefix starts with the module prefix's text",
    {
      prefix: '/passkeys',
      globalPrefix: 'passkeys-api',
      mount: '/passkeys-api/passkeys',
      elsewhere: ['/passkeys', '/passkeys-api'],
    },
  ],
  [
    "the global prefix ends with the module prefix's text",
    {
      prefix: '/passkeys',
      globalPrefix: 'my-passkeys',
      mount: '/my-passkeys/passkeys',
      elsewhere: ['/passkeys', '/my-passkeys'],
    },
  ],
  [
    'the global prefix excludes the contract',
    {
      prefix: '/passkeys',
      globalPrefix: 'api',
      globalPrefixOptions: { exclude: ['passkeys', 'passkeys/{*path}'] },
      mount: '/passkeys',
      elsewhere: ['/api/passkeys'],
    },
  ],
  [
    "the global prefix is the module's prefix and excludes the contract",
    {
      prefix: '/passkeys',
      globalPrefix: 'passkeys',
      globalPrefixOptions: { exclude: ['passkeys', 'passkeys/{*path}'] },
      mount: '/passkeys',
      elsewhere: ['/passkeys/passkeys'],
    },
  ],
];

describe.each(PLATFORMS)("PasskeysModule behind Nest's global prefix on %s", (_platform, start) => {
  function startShape(shape: Shape): Promise<Booted> {
    return start(
      {
        imports: [PasskeysModule.forRoot({ passgate: testPassgate(), prefix: shape.prefix })],
        controllers: [AdminPasskeysController],
      },
      { globalPrefix: shape.globalPrefix, globalPrefixOptions: shape.globalPrefixOptions },
    );
  }

  it("matches the module's prefix as written, as @passgate/express does, where Nest matches any case", async () => {
    booted = await startShape({
      prefix: '/passkeys',
      globalPrefix: 'api',
      mount: '/api/passkeys',
      elsewhere: [],
    });
    const answer = await browser(booted.url, '/api/PASSKEYS').post('/login/options', {});
    expect({ status: answer.status, cookies: answer.setCookies }).toEqual({ status: 404, cookies: [] });
  });

  describe.each(SHAPES)('when %s', (_shape, shape) => {
    it('serves the contract where Nest mounts it, with the ceremony cookie scoped to the whole mount', async () => {
      booted = await startShape(shape);
      const client = browser(booted.url, shape.mount);
      const options = await client.post('/login/options', {});
      expect({ status: options.status, cookies: options.setCookies }).toEqual({
        status: 200,
        cookies: [expect.stringContaining(`; Path=${shape.mount}; `)],
      });
      const { answer, userId } = await signUp(client);
      expect(answer.status, answer.text).toBe(200);
      const session = await client.get('/session');
      expect({ status: session.status, user: session.body.user?.id }).toEqual({ status: 200, user: userId });
    });

    it("reads the contract's bodies itself, and answers a malformed id as the contract says", async () => {
      booted = await startShape(shape);
      const client = browser(booted.url, shape.mount);
      const big = await client.post('/login/options', undefined, rawJson(`"${'x'.repeat(200_000)}"`));
      expectError(big, 413, 'payload_too_large');
      expectError(await client.post('/login/options', undefined, rawJson('{"a":')), 400, 'invalid_request');
      const foreign = await client.delete('/credentials/%ZZ', { origin: 'https://evil.example' });
      expectError(foreign, 403, 'forbidden_origin');
      expectError(await client.delete('/credentials/%ZZ'), 401, 'unauthenticated');
    });

    it("serves nothing where Nest does not mount it, and leaves the app's routes to the app", async () => {
      booted = await startShape(shape);
      const admin = await browser(booted.url).request(
        'GET',
        `/${shape.globalPrefix}/admin/passkeys/credentials`,
      );
      expect({ status: admin.status, body: admin.body }).toEqual({ status: 200, body: { admin: true } });
      for (const at of shape.elsewhere) {
        const answer = await browser(booted.url, at).post('/login/options', {});
        expect({ at, status: answer.status, cookies: answer.setCookies }).toEqual({
          at,
          status: 404,
          cookies: [],
        });
      }
    });
  });
});
