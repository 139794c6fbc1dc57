/** The origin every suite request claims (and the software authenticator writes): see `harness.ts`. */
export const ORIGIN = 'https://app.example.test';
export const RP_ID = 'app.example.test';
/** The contract's default mount prefix; the contract suite's app must use it. */
export const PREFIX = '/passkeys';
export const CEREMONY_COOKIE = 'passgate_ceremony';

export interface SentRequest {
  /** JSON body (serialised, `content-type: application/json`). */
  json?: unknown;
  /** A raw body with the given `contentType` (or none). */
  body?: string | Uint8Array;
  contentType?: string;
  /** Origin header: default the client's `origin` on non-GET requests; `false` sends none. */
  origin?: string | false;
  headers?: Record<string, string>;
  /** Use this Cookie header instead of the jar, and do not update the jar from the answer. */
  cookie?: string;
}

export interface Answer {
  status: number;
  headers: Headers;
  /** Every `Set-Cookie` value of the answer. */
  setCookies: string[];
  text: string;
  /** The parsed JSON body, or undefined when there is none. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON shapes.
  body: any;
}

export interface ContractClientOptions {
  /**
   * The page's origin: the `Origin` header of non-GET requests, and the origin the flows
   * (`signUp`, `signIn`, `prepareSignIn`) have the authenticator sign for. Default {@link ORIGIN}.
   */
  origin?: string;
  /**
   * Where the app mounts the contract: `get`/`post`/`patch`/`delete` put it in front of their path
   * as given (a leading `/`, no trailing one; `''` for the site root). Default {@link PREFIX}.
   * `request` takes the whole path.
   */
  prefix?: string;
}

/**
 * A browser-like HTTP client on Node's `fetch` with a tiny cookie jar (name → value, updated from
 * `Set-Cookie`, removed on `Max-Age=0` or a past `Expires`). Paths are not tracked: the suite only
 * talks to one prefix, and the ceremony cookie's `Path` is asserted separately.
 */
export class ContractClient {
  readonly jar = new Map<string, string>();
  /** See {@link ContractClientOptions.origin}. */
  readonly origin: string;
  /** See {@link ContractClientOptions.prefix}. */
  readonly prefix: string;

  constructor(
    readonly baseUrl: string,
    options: ContractClientOptions = {},
  ) {
    this.origin = options.origin ?? ORIGIN;
    this.prefix = options.prefix ?? PREFIX;
  }

  cookieHeader(): string {
    return [...this.jar].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  cookie(name: string): string | undefined {
    return this.jar.get(name);
  }

  /** A copy with the same cookies (a second tab of the same browser). */
  fork(): ContractClient {
    const copy = new ContractClient(this.baseUrl, { origin: this.origin, prefix: this.prefix });
    for (const [k, v] of this.jar) copy.jar.set(k, v);
    return copy;
  }

  async request(method: string, path: string, sent: SentRequest = {}): Promise<Answer> {
    const headers: Record<string, string> = { accept: 'application/json', ...sent.headers };
    let body: string | Uint8Array | undefined;
    if (sent.json !== undefined) {
      body = JSON.stringify(sent.json);
      headers['content-type'] = sent.contentType ?? 'application/json';
    } else if (sent.body !== undefined) {
      body = sent.body;
      if (sent.contentType) headers['content-type'] = sent.contentType;
    }
    const origin = sent.origin ?? (method === 'GET' ? false : this.origin);
    if (origin !== false) headers['origin'] = origin;
    const cookie = sent.cookie ?? this.cookieHeader();
    if (cookie) headers['cookie'] = cookie;
    const response = await fetch(new URL(path, this.baseUrl), {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
      redirect: 'manual',
    });
    const text = await response.text();
    const setCookies = response.headers.getSetCookie();
    if (sent.cookie === undefined) this.absorb(setCookies);
    let parsed: unknown;
    if (text.length > 0) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    return { status: response.status, headers: response.headers, setCookies, text, body: parsed };
  }

  get(path: string, sent?: SentRequest): Promise<Answer> {
    return this.request('GET', `${this.prefix}${path}`, sent);
  }

  post(path: string, json?: unknown, sent: SentRequest = {}): Promise<Answer> {
    return this.request('POST', `${this.prefix}${path}`, json === undefined ? sent : { json, ...sent });
  }

  patch(path: string, json?: unknown, sent: SentRequest = {}): Promise<Answer> {
    return this.request('PATCH', `${this.prefix}${path}`, json === undefined ? sent : { json, ...sent });
  }

  delete(path: string, sent?: SentRequest): Promise<Answer> {
    return this.request('DELETE', `${this.prefix}${path}`, sent);
  }

  absorb(setCookies: string[]): void {
    for (const line of setCookies) {
      const parsed = parseSetCookie(line);
      if (!parsed) continue;
      if (parsed.expired) this.jar.delete(parsed.name);
      else this.jar.set(parsed.name, parsed.value);
    }
  }
}

export interface ParsedSetCookie {
  name: string;
  value: string;
  expired: boolean;
  /** Attribute names lower-cased → value ('' for flags). */
  attributes: Map<string, string>;
}

export function parseSetCookie(line: string): ParsedSetCookie | undefined {
  const [pair = '', ...rest] = line.split(';');
  const eq = pair.indexOf('=');
  if (eq <= 0) return undefined;
  const attributes = new Map<string, string>();
  for (const part of rest) {
    const i = part.indexOf('=');
    const key = (i < 0 ? part : part.slice(0, i)).trim().toLowerCase();
    attributes.set(key, i < 0 ? '' : part.slice(i + 1).trim());
  }
  const maxAge = attributes.get('max-age');
  const expires = attributes.get('expires');
  const expired =
    (maxAge !== undefined && Number(maxAge) <= 0) ||
    (expires !== undefined && Date.parse(expires) <= Date.now());
  return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), expired, attributes };
}

/** The `Set-Cookie` line for `name` in an answer, parsed. */
export function findSetCookie(answer: Answer, name: string): ParsedSetCookie | undefined {
  for (const line of answer.setCookies) {
    const parsed = parseSetCookie(line);
    if (parsed?.name === name) return parsed;
  }
  return undefined;
}
