import { IncomingMessage, ServerResponse } from 'node:http';

/** The `node:http` / `node:https` server options that say which classes requests and responses are made of. */
export interface PrototypedServerOptions {
  IncomingMessage: typeof IncomingMessage;
  ServerResponse: typeof ServerResponse;
}

/** What `serverPrototypes()` returns. */
export interface ServerPrototypes {
  /** Spread into `http.createServer(options, app)` or `https.createServer({ key, cert, ...options }, app)`. */
  readonly options: PrototypedServerOptions;
  /**
   * Sets the prototypes of the requests and responses made from now on, for a server that listens
   * before its app exists. Throws a `TypeError` unless `request` inherits from `IncomingMessage`'s
   * prototype and `response` from `ServerResponse`'s (Node's own code runs on these objects).
   */
  use(request: object, response: object): void;
}

function assertInherits(value: object, base: { prototype: object; name: string }, what: string): void {
  if (!Object.prototype.isPrototypeOf.call(base.prototype, value))
    throw new TypeError(
      `passgate: serverPrototypes: the ${what} prototype must inherit from http.${base.name}.prototype.`,
    );
}

type AnyConstructor = new (...args: never[]) => object;

/** A constructor whose objects get its own `prototype` and are built by `base` (exported for tests). */
export function derived(base: AnyConstructor): (this: object, ...args: unknown[]) => unknown {
  if (/^class\b/.test(Function.prototype.toString.call(base))) {
    const Derived = function (this: object, ...args: unknown[]) {
      return Reflect.construct(base, args, Derived);
    };
    return Derived;
  }
  const construct = base as unknown as (this: object, ...args: unknown[]) => void;
  return function (this: object, ...args: unknown[]) {
    construct.apply(this, args);
  };
}

/**
 * A Node server whose requests and responses are made with the prototypes a framework would give
 * them on arrival (Express's `app.request` and `app.response`). Express 5 sets them with
 * `Object.setPrototypeOf(req, app.request)` on every request; on V8 (Node 20 and 24 alike) that swap
 * makes what the request allocates survive young-generation collections: with a trivial Express app
 * 54 % of the bytes allocated survived a scavenge instead of 0.1 %, and scavenges took 5–7 ms instead
 * of about 1, enough to cost a busy app a large share of its CPU and its tail latency (`pnpm bench`,
 * apps/bench/README.md). An object that already has the prototype makes the swap a no-op. Sub-apps
 * mounted with `app.use(path, subApp)` still swap on their own routes; everything else is unchanged
 * (`req instanceof http.IncomingMessage` holds).
 *
 * Without arguments the server makes plain Node requests until `use()` is called.
 */
export function serverPrototypes(request?: object, response?: object): ServerPrototypes {
  // Node's IncomingMessage and ServerResponse are function constructors: `new Request(socket)` makes
  // an object with `Request.prototype` and runs Node's constructor on it. Not Reflect.construct with
  // a new.target: V8 then builds every request through a slow generic path (measured: the sign-in
  // rate fell to a fifth). A class constructor (should Node ever make them classes) cannot be called
  // that way; Reflect.construct then keeps it working.
  const Request = derived(IncomingMessage);
  const Response = derived(ServerResponse);
  const classes = { request: Request as { prototype: object }, response: Response as { prototype: object } };
  classes.request.prototype = IncomingMessage.prototype;
  classes.response.prototype = ServerResponse.prototype;
  const use = (req: object, res: object): void => {
    assertInherits(req, IncomingMessage, 'request');
    assertInherits(res, ServerResponse, 'response');
    classes.request.prototype = req;
    classes.response.prototype = res;
  };
  if (request !== undefined || response !== undefined) {
    if (request === undefined || response === undefined)
      throw new TypeError(
        'passgate: serverPrototypes needs both a request and a response prototype, or neither.',
      );
    use(request, response);
  }
  return {
    options: {
      IncomingMessage: Request as unknown as typeof IncomingMessage,
      ServerResponse: Response as unknown as typeof ServerResponse,
    },
    use,
  };
}
