import express from 'express';
import session from 'express-session';
import { describe, expect, it } from 'vitest';
import { createPasskeyRouter, passkeyErrorHandler } from '../src/index.js';
import { ContractClient, listen, makePassgate, SESSION_SECRET } from './helpers.js';

/** The origin the suite's client claims is https; these servers listen on plain http, like an app behind a TLS proxy. */
async function app(options: { secureCookies?: 'auto' | boolean; trustProxy?: boolean }) {
  const warnings: string[] = [];
  const logger = { debug() {}, info() {}, warn: (m: string) => void warnings.push(m), error() {} };
  const host = express();
  if (options.trustProxy) host.set('trust proxy', true);
  host.use(session({ secret: SESSION_SECRET, resave: false, saveUninitialized: false }));
  host.use(
    createPasskeyRouter({
      passgate: makePassgate({ logger }),
      ...(options.secureCookies !== undefined ? { secureCookies: options.secureCookies } : {}),
    }),
  );
  host.use(passkeyErrorHandler());
  return { server: await listen(host), warnings };
}

async function ceremonyCookie(url: string, headers: Record<string, string> = {}): Promise<string> {
  const answer = await new ContractClient(url).post('/login/options', {}, { headers });
  expect(answer.status).toBe(200);
  const cookie = answer.setCookies.find((c) => c.startsWith('passgate_ceremony='));
  expect(cookie).toBeDefined();
  return cookie as string;
}

const isSecure = (cookie: string) => /;\s*Secure/i.test(cookie);

describe('the ceremony cookie and Secure (secureCookies)', () => {
  it("'auto' (default): no Secure over http, and one warning because the configured origin is https", async () => {
    const { server, warnings } = await app({});
    try {
      expect(isSecure(await ceremonyCookie(server.url))).toBe(false);
      expect(isSecure(await ceremonyCookie(server.url))).toBe(false);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/secureCookies: true/);
    } finally {
      await server.close();
    }
  });

  it("'auto' behind a trusted proxy that says https: Secure, and no warning", async () => {
    const { server, warnings } = await app({ trustProxy: true });
    try {
      expect(isSecure(await ceremonyCookie(server.url, { 'x-forwarded-proto': 'https' }))).toBe(true);
      expect(warnings).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('true: Secure even when the app does not trust the TLS proxy in front of it; no warning', async () => {
    const { server, warnings } = await app({ secureCookies: true });
    try {
      expect(isSecure(await ceremonyCookie(server.url))).toBe(true);
      expect(warnings).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('false: never Secure (plain-http development), and no warning', async () => {
    const { server, warnings } = await app({ secureCookies: false, trustProxy: true });
    try {
      expect(isSecure(await ceremonyCookie(server.url, { 'x-forwarded-proto': 'https' }))).toBe(false);
      expect(warnings).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('refuses any other value at start', () => {
    expect(() => createPasskeyRouter({ passgate: makePassgate(), secureCookies: 'yes' as never })).toThrow(
      /secureCookies/,
    );
  });
});
