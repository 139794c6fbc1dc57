import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createMemoryStores, type PassgateStores } from '@passgate/core';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPasskeyRouter } from '../src/index.js';
import { ContractClient, listen, makePassgate } from './helpers.js';

/**
 * An application can end up with two copies of `@passgate/core`: a store adapter resolved against
 * another core version, a bundler that splits chunks. Errors made by the other copy must still map
 * to the contract's answers (a class identity check would answer its `store_unavailable` as 500).
 *
 * The second copy is the core's built `dist` copied beside the package (so its own imports resolve
 * through the core's node_modules) and imported from there: a separate module instance with its own
 * `PassgateError` class, exactly what a second installed copy is to Node.
 */
const coreDir = fileURLToPath(new URL('../../core/', import.meta.url));
let copyDir: string;
let foreign: typeof import('@passgate/core');

beforeAll(async () => {
  copyDir = mkdtempSync(join(coreDir, '.copy-'));
  cpSync(join(coreDir, 'dist'), join(copyDir, 'dist'), {
    recursive: true,
    filter: (source) => !source.endsWith('.map'),
  });
  cpSync(join(coreDir, 'package.json'), join(copyDir, 'package.json'));
  foreign = await import(pathToFileURL(join(copyDir, 'dist', 'index.js')).href);
});
afterAll(() => rmSync(copyDir, { recursive: true, force: true }));

/** Memory stores whose challenge store fails with an error made by the other copy of the core. */
function storesFailingWith(error: () => unknown): PassgateStores {
  const stores = createMemoryStores();
  return {
    ...stores,
    challenges: {
      put: async () => {
        throw error();
      },
      consume: async () => {
        throw error();
      },
    },
  };
}

async function serve(stores: PassgateStores, options: Parameters<typeof makePassgate>[0] = {}) {
  const app = express();
  const session = { getSignedInUser: () => null, onSignIn() {}, onSignOut() {} };
  app.use(createPasskeyRouter({ passgate: makePassgate({ stores, ...options }), session }));
  return listen(app);
}

describe('errors from another copy of @passgate/core', () => {
  it('the copy really is another module instance with its own class', async () => {
    const { PassgateError } = await import('@passgate/core');
    expect(foreign.PassgateError).not.toBe(PassgateError);
    const error = new foreign.PassgateError('store_unavailable');
    // Both copies recognise each other's errors by brand, with `instanceof` and `isPassgateError`.
    expect(error instanceof PassgateError).toBe(true);
    const { isPassgateError } = await import('@passgate/core');
    expect(isPassgateError(error, 'store_unavailable')).toBe(true);
    expect(isPassgateError(new Error('store_unavailable'))).toBe(false);
    expect(isPassgateError({ code: 'store_unavailable' })).toBe(false);
  });

  it("a store's store_unavailable from the other copy answers 503, not 500", async () => {
    const server = await serve(storesFailingWith(() => foreign.storeUnavailable(new Error('down'))));
    try {
      const answer = await new ContractClient(server.url).post('/login/options', {});
      expect(answer.status).toBe(503);
      expect(answer.body).toMatchObject({ error: { code: 'store_unavailable' } });
    } finally {
      await server.close();
    }
  });

  it("a store's credential_exists from the other copy keeps its code and status", async () => {
    const server = await serve(storesFailingWith(() => foreign.credentialExists()));
    try {
      const answer = await new ContractClient(server.url).post('/login/options', {});
      expect(answer.status).toBe(409);
      expect(answer.body).toMatchObject({ error: { code: 'credential_exists' } });
    } finally {
      await server.close();
    }
  });

  it('a limiter of another rate-limiter-flexible copy: its refusal is a 429 with Retry-After, not an outage', async () => {
    // What `RateLimiterRes` looks like to us when the application's limiter comes from another copy
    // of the library: a plain object of the same shape, not an instance of our class.
    const refusal = { msBeforeNext: 4200, remainingPoints: 0, consumedPoints: 61, isFirstInDuration: false };
    const limiter = {
      points: 60,
      consume: async () => {
        throw refusal;
      },
      get: async () => refusal,
      penalty: async () => refusal,
      reward: async () => refusal,
      delete: async () => true,
    };
    const server = await serve(createMemoryStores(), {
      rateLimits: { perIp: limiter as never, accountFailures: false },
    });
    try {
      const answer = await new ContractClient(server.url).post('/login/options', {});
      expect(answer.status).toBe(429);
      expect(answer.headers.get('retry-after')).toBe('5');
      expect(answer.body).toMatchObject({ error: { code: 'rate_limited' } });
    } finally {
      await server.close();
    }
  });
});
