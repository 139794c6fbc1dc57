import { Body, Controller, Post } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { PasskeysExceptionFilter, PasskeysModule } from '../src/index.js';
import {
  type Booted,
  boot,
  bootBesideAdminRoutes,
  browser,
  ORIGIN,
  rawJson,
  testPassgate,
} from './helpers.js';

let booted: Booted | undefined;
afterEach(async () => {
  await booted?.close();
  booted = undefined;
});

@Controller('echo')
class EchoController {
  @Post()
  echo(@Body() body: unknown) {
    return { body };
  }
}

const big = JSON.stringify({ username: 'x'.repeat(1024 * 1024) });

/** A body sent chunked (no Content-Length), as a browser's stream upload or a proxy would. */
async function chunked(url: string, bytes: number): Promise<{ status: number; body: any }> {
  const chunk = new TextEncoder().encode(' '.repeat(1024));
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent === 0) controller.enqueue(new TextEncoder().encode('{"a":1}'));
      if (sent >= bytes) controller.close();
      else controller.enqueue(chunk);
      sent += chunk.length;
    },
  });
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: ORIGIN },
    body: stream,
    duplex: 'half',
  } as RequestInit);
  return { status: res.status, body: await res.json() };
}

describe("Nest's default body parser (express.json, 100 kb) and the passkey routes", () => {
  async function bootDefault() {
    return boot({
      imports: [PasskeysModule.forRoot({ passgate: testPassgate() })],
      controllers: [EchoController],
    });
  }

  it("a 1 MB body gets the contract's 413, not Nest's", async () => {
    booted = await bootDefault();
    const reply = await browser(booted.url).post('/register/options', undefined, rawJson(big));
    expect(reply.status).toBe(413);
    expect(reply.body).toEqual({ error: { code: 'payload_too_large', message: expect.any(String) } });
  });

  it('bad JSON gets 400 invalid_request naming $', async () => {
    booted = await bootDefault();
    const reply = await browser(booted.url).post('/login/options', undefined, rawJson('{bad'));
    expect(reply.status).toBe(400);
    expect(reply.body.error).toMatchObject({ code: 'invalid_request', field: '$' });
  });

  it('the contract order holds: a foreign origin is 403 before the size or the JSON is looked at', async () => {
    booted = await bootDefault();
    const client = browser(booted.url);
    for (const body of [big, '{bad']) {
      const reply = await client.post(
        '/login/options',
        undefined,
        rawJson(body, { origin: 'https://evil.example' }),
      );
      expect(reply.status).toBe(403);
      expect(reply.body.error.code).toBe('forbidden_origin');
    }
  });

  it('a chunked body between 64 KiB and 100 kb is 413 (the contract limit, not the parser limit)', async () => {
    booted = await bootDefault();
    const reply = await chunked(`${booted.url}/passkeys/login/options`, 80 * 1024);
    expect(reply.status).toBe(413);
    expect(reply.body.error.code).toBe('payload_too_large');
  });

  it('a non-UTF-8 charset is 415 unsupported_media_type', async () => {
    booted = await bootDefault();
    const reply = await browser(booted.url).post('/login/options', undefined, {
      body: '{}',
      contentType: 'application/json; charset=latin1',
    });
    expect(reply.status).toBe(415);
    expect(reply.body.error.code).toBe('unsupported_media_type');
  });

  it("the app's other routes keep Nest's parser (and its own error format)", async () => {
    booted = await bootDefault();
    const client = browser(booted.url);
    expect((await client.request('POST', '/echo', { json: { a: 1 } })).body).toEqual({ body: { a: 1 } });
    const tooBig = await client.request('POST', '/echo', rawJson(big));
    expect(tooBig.status).toBe(413);
    expect(tooBig.body).toEqual({ statusCode: 413, message: 'request entity too large' });
  });

  it("an app route shaped like a contract route outside the mount (/admin/passkeys/login/options) keeps Nest's parser", async () => {
    booted = await bootBesideAdminRoutes();
    const client = browser(booted.url);
    const parsed = await client.request('POST', '/api/admin/passkeys/login/options', { json: { a: 1 } });
    expect({ status: parsed.status, body: parsed.body }).toEqual({ status: 201, body: { body: { a: 1 } } });
    // Its errors are Nest's, as on any app route.
    const broken = await client.request('POST', '/api/admin/passkeys/login/options', rawJson('{'));
    expect(broken.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    // The contract's own route still reads its body itself.
    const over = JSON.stringify({ username: 'x'.repeat(70_000) }); // under Nest's 100 kb, over 64 KiB
    const contract = await client.request('POST', '/api/passkeys/login/options', rawJson(over));
    expect(contract.body.error.code).toBe('payload_too_large');
  });

  it('a parser the app mounts with app.useBodyParser (a larger limit) is kept off the passkey routes too', async () => {
    booted = await boot(
      { imports: [PasskeysModule.forRoot({ passgate: testPassgate() })], controllers: [EchoController] },
      { bodyParser: false, configure: (app) => app.useBodyParser('json', { limit: '10mb' }) },
    );
    const client = browser(booted.url);
    const reply = await client.post('/register/options', undefined, rawJson(big));
    expect(reply.status).toBe(413);
    expect(reply.body.error.code).toBe('payload_too_large');
    expect((await client.request('POST', '/echo', rawJson(big))).status).toBe(201);
  });

  it('with bodyParser: false in the app the passkey routes behave the same', async () => {
    booted = await boot(
      { imports: [PasskeysModule.forRoot({ passgate: testPassgate() })] },
      { bodyParser: false },
    );
    const client = browser(booted.url);
    expect((await client.post('/login/options', {})).status).toBe(200);
    expect((await client.post('/login/options', undefined, rawJson(big))).status).toBe(413);
  });
});

describe('a parser the module does not recognise, ahead of the passkey routes', () => {
  it("its parsed body is used (kind 'parsed'), and its errors get the contract's bodies through PasskeysExceptionFilter", async () => {
    booted = await boot(
      {
        imports: [PasskeysModule.forRoot({ passgate: testPassgate() })],
        providers: [{ provide: APP_FILTER, useClass: PasskeysExceptionFilter }],
      },
      {
        configure: (app) => {
          const json = express.json({ limit: '1mb' });
          app.use((req: any, res: any, next: any) => json(req, res, next));
        },
      },
    );
    const client = browser(booted.url);
    const ok = await client.post('/login/options', { hints: ['security-key'] });
    expect(ok.status).toBe(200);
    expect(ok.body.hints).toEqual(['security-key']);
    const wrong = await client.post('/login/options', { hints: ['nope'] });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.code).toBe('invalid_request');
    const bad = await client.post('/login/options', undefined, rawJson('{bad'));
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'invalid_request', field: '$' });
    const huge = await client.post(
      '/login/options',
      undefined,
      rawJson(JSON.stringify({ a: 'x'.repeat(2 * 1024 * 1024) })),
    );
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe('payload_too_large');
  });
});
