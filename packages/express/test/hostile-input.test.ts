import express from 'express';
import session from 'express-session';
import { describe, expect, it } from 'vitest';
import { createPasskeyRouter, passkeyErrorHandler } from '../src/index.js';
import { ContractClient, listen, makePassgate, SESSION_SECRET } from './helpers.js';

/** A logger that keeps what it is given, so a test can say nothing was logged as an error. */
function recordingLogger() {
  const lines: { level: string; message: string }[] = [];
  const keep = (level: string) => (message: string) => void lines.push({ level, message });
  return {
    lines,
    logger: { debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') },
  };
}

async function hostApp(options: { globalJson: boolean; rateLimited?: boolean }) {
  const { lines, logger } = recordingLogger();
  const app = express();
  // A host app's own parser with a limit large enough to hand over what it parsed.
  if (options.globalJson) app.use(express.json({ limit: '1mb' }));
  app.use(session({ secret: SESSION_SECRET, resave: false, saveUninitialized: false }));
  const passgate = makePassgate({
    logger,
    ...(options.rateLimited
      ? { rateLimits: { perIp: { points: 1, durationSeconds: 60 }, accountFailures: false } }
      : {}),
  });
  app.use(createPasskeyRouter({ passgate }));
  app.use(passkeyErrorHandler());
  return { server: await listen(app), lines };
}

const nestedArrays = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const nestedObjects = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

describe('hostile JSON bodies (contract 1.1: no client input produces a 5xx, whatever parsed the body)', () => {
  for (const globalJson of [true, false]) {
    it(`deeply nested bodies (5,000 levels) get 4xx, never 500, nothing logged as an error (global express.json: ${globalJson})`, async () => {
      const { server, lines } = await hostApp({ globalJson });
      try {
        const client = new ContractClient(server.url);
        const bodies = [
          `{"username":"deep","extra":${nestedArrays(5000)}}`,
          `{"username":"deep","extra":${nestedObjects(5000)}}`,
          `{"id":"x","rawId":"x","type":"public-key","response":${nestedObjects(5000)}}`,
          `{"id":"x","rawId":"x","type":"public-key","response":{},"clientExtensionResults":${nestedArrays(5000)}}`,
          nestedArrays(5000),
          `{"username":"x","pad":${nestedArrays(40_000)}}`,
        ];
        for (const path of ['/login/options', '/login/verify', '/register/options', '/register/verify']) {
          for (const body of bodies) {
            const answer = await client.post(path, undefined, { body, contentType: 'application/json' });
            expect(answer.status, `${path} ${body.slice(0, 40)}: ${answer.text.slice(0, 200)}`).toBeLessThan(
              500,
            );
            expect(answer.body?.error?.code ?? 'none').not.toBe('internal_error');
          }
        }
        expect(lines.filter((l) => l.level === 'error')).toEqual([]);
      } finally {
        await server.close();
      }
    });
  }

  it('a deep body is still measured before the rate limit: 413 for an oversized one, 429 after the bucket, never 500', async () => {
    const { server } = await hostApp({ globalJson: true, rateLimited: true });
    try {
      const client = new ContractClient(server.url);
      const huge = `{"username":"x","pad":${nestedArrays(60_000)}}`;
      const first = await client.post('/login/options', undefined, {
        body: huge,
        contentType: 'application/json',
      });
      expect(first.status).toBe(413);
      const deep = `{"username":"x","pad":${nestedArrays(5000)}}`;
      const answers = [];
      for (let i = 0; i < 3; i++) {
        answers.push(
          (await client.post('/login/options', undefined, { body: deep, contentType: 'application/json' }))
            .status,
        );
      }
      expect(answers).toEqual([200, 429, 429]);
    } finally {
      await server.close();
    }
  });
});
