import { once } from 'node:events';
import http, { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { serverPrototypes } from '../src/node/index.js';
import { derived } from '../src/node/server-prototypes.js';

/** A server made with `options`; answers each request with what its objects' prototypes were on arrival. */
async function probe(
  options: http.ServerOptions,
  requestProto: () => object,
  responseProto: () => object,
): Promise<{ ask(): Promise<unknown>; close(): Promise<void> }> {
  const server = http.createServer(options, (req, res) => {
    const body = JSON.stringify({
      request: Object.getPrototypeOf(req) === requestProto(),
      response: Object.getPrototypeOf(res) === responseProto(),
      nodeRequest: req instanceof IncomingMessage,
      nodeResponse: res instanceof ServerResponse,
      url: req.url,
    });
    res.setHeader('content-type', 'application/json');
    res.end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    ask: async () => (await fetch(`http://127.0.0.1:${port}/probe?x=1`)).json(),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('serverPrototypes', () => {
  it('makes requests and responses with the given prototypes, still Node objects that serve', async () => {
    const request = Object.create(IncomingMessage.prototype);
    const response = Object.create(ServerResponse.prototype);
    const server = await probe(
      serverPrototypes(request, response).options,
      () => request,
      () => response,
    );
    try {
      expect(await server.ask()).toEqual({
        request: true,
        response: true,
        nodeRequest: true,
        nodeResponse: true,
        url: '/probe?x=1',
      });
    } finally {
      await server.close();
    }
  });

  it('makes plain Node objects until use(), and the new prototypes after it', async () => {
    const prototypes = serverPrototypes();
    let request: object = IncomingMessage.prototype;
    let response: object = ServerResponse.prototype;
    const server = await probe(
      prototypes.options,
      () => request,
      () => response,
    );
    try {
      expect(await server.ask()).toMatchObject({ request: true, response: true });
      request = Object.create(IncomingMessage.prototype);
      response = Object.create(ServerResponse.prototype);
      prototypes.use(request, response);
      expect(await server.ask()).toMatchObject({ request: true, response: true, nodeRequest: true });
    } finally {
      await server.close();
    }
  });

  it('refuses prototypes Node objects cannot have, and one without the other', () => {
    const request = Object.create(IncomingMessage.prototype);
    const response = Object.create(ServerResponse.prototype);
    expect(() => serverPrototypes({}, response)).toThrow(/passgate: .*IncomingMessage/);
    expect(() => serverPrototypes(request, Object.create(IncomingMessage.prototype))).toThrow(
      /passgate: .*ServerResponse/,
    );
    expect(() => serverPrototypes(request)).toThrow(/both/);
    expect(() => serverPrototypes().use(response, request)).toThrow(TypeError);
  });
});

describe('derived (the constructor behind serverPrototypes)', () => {
  it('builds with a class constructor too (through Reflect.construct), with its own prototype', () => {
    class Base {
      made: boolean;
      constructor(readonly value: number) {
        this.made = true;
      }
    }
    const Derived = derived(Base) as unknown as { new (value: number): Base; prototype: object };
    Derived.prototype = Object.create(Base.prototype, { extra: { value: 'yes' } });
    const made = new Derived(7);
    expect(made).toBeInstanceOf(Base);
    expect(Object.getPrototypeOf(made)).toBe(Derived.prototype);
    expect(made).toMatchObject({ value: 7, made: true, extra: 'yes' });
  });

  it('calls a function constructor on the new object', () => {
    function Base(this: { value: number }, value: number) {
      this.value = value;
    }
    const Derived = derived(Base as unknown as new (v: number) => object) as unknown as {
      new (value: number): { value: number };
      prototype: object;
    };
    Derived.prototype = Object.create(Base.prototype);
    const made = new Derived(3);
    expect(made.value).toBe(3);
    expect(Object.getPrototypeOf(made)).toBe(Derived.prototype);
  });
});
