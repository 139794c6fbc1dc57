import { errorFromResponse, PasskeyError } from './errors.js';

/** How the client reaches the server; see `PasskeyClientOptions`. */
export interface HttpOptions {
  /** The contract's mount prefix, e.g. `/passkeys`. */
  prefix: string;
  /** Absolute origin of the API when it is not the page's own (e.g. `https://api.example.com`). */
  baseUrl: string | undefined;
  fetch: typeof fetch;
  credentials: RequestCredentials;
  /** How long a request waits for the answer's status and headers, in milliseconds. */
  timeoutMs: number;
}

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** Joins the base URL, the prefix and a path, without doubled or missing slashes. */
export function endpointUrl(options: Pick<HttpOptions, 'prefix' | 'baseUrl'>, path: string): string {
  const prefix = `/${options.prefix.replace(/^\/+|\/+$/g, '')}`.replace(/^\/$/, '');
  const base = options.baseUrl?.replace(/\/+$/, '') ?? '';
  return `${base}${prefix}${path}`;
}

/**
 * One request to the contract. JSON in (with `content-type: application/json`, without which
 * state-changing requests get `415`), JSON out; `204` resolves with `undefined`. Rejects with a
 * {@link PasskeyError}: the server's code for an error answer, `network` when no answer came, or
 * none within `timeoutMs`. The request is then aborted, so an answer arriving later is dropped by
 * the browser, its cookies included: it cannot sign the page in behind a ceremony that came after.
 */
export async function request<T>(
  options: HttpOptions,
  method: Method,
  path: string,
  body?: unknown,
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const init: RequestInit = { method, headers, credentials: options.credentials };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  // Only until the headers: by then the browser has kept the answer's cookies, and the small JSON
  // body that follows is read whatever it takes.
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), options.timeoutMs);
  init.signal = deadline.signal;
  let response: Response;
  try {
    response = await options.fetch(endpointUrl(options, path), init);
  } catch (cause) {
    const message = deadline.signal.aborted
      ? `The server did not answer within ${options.timeoutMs} ms.`
      : 'Could not reach the server.';
    throw new PasskeyError('network', message, { cause });
  } finally {
    clearTimeout(timer);
  }
  if (response.status === 204) return undefined as T;
  let data: unknown = null;
  try {
    data = await response.json();
  } catch (cause) {
    if (response.ok) {
      throw new PasskeyError('network', `The server answered ${response.status} without JSON.`, {
        status: response.status,
        cause,
      });
    }
  }
  if (!response.ok) throw errorFromResponse(response.status, data, response.headers.get('retry-after'));
  return data as T;
}
