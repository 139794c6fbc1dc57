import { PassgateError } from '../errors.js';
import { jsonSizeUpTo } from './json-size.js';
import { header } from './responses.js';
import type { ContractRequest } from './types.js';

/**
 * How an endpoint reads its body. `ignored`: the endpoint uses none (`POST /logout`, `DELETE`, the
 * `GET`s), but on a state-changing request one that comes is still held to the contract's size
 * limit and must be JSON (`checkUnusedJson`), so it cannot slip past the checks a used body meets.
 */
export type BodyRule = 'required' | 'optional' | 'ignored';

/** The body as read: raw bytes from the stream, or what a host parser made of it. */
export type RawBody = Uint8Array | { parsed: unknown };

/** Whether the request announces a body (a parsed one, chunked, or a non-zero Content-Length). */
export function hasBody(request: ContractRequest): boolean {
  if (request.body.kind === 'parsed') return true;
  if (header(request, 'transfer-encoding') !== undefined) return true;
  const length = header(request, 'content-length');
  return length !== undefined && length !== '0';
}

/** `application/json`, with no charset or UTF-8 (RFC 8259); anything else is `unsupported_media_type`. */
export function isJson(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const [type = '', ...params] = contentType.split(';').map((p) => p.trim().toLowerCase());
  if (type !== 'application/json') return false;
  // JSON is UTF-8 (RFC 8259); any other declared charset is not what we parse.
  return params.every((p) => !p.startsWith('charset=') || p === 'charset=utf-8' || p === 'charset="utf-8"');
}

/** Reads at most `limit` bytes of the body; rejects with `payload_too_large` past it. */
export async function readBody(request: ContractRequest, limit: number): Promise<RawBody> {
  const { body } = request;
  if (body.kind === 'none') return new Uint8Array(0);
  if (body.kind === 'parsed') {
    // A host parser read the stream (possibly chunked, with no Content-Length): measure what it made.
    if (jsonSizeUpTo(body.value, limit) > limit) throw new PassgateError('payload_too_large');
    return { parsed: body.value };
  }
  return body.read(limit);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The body as a JSON object, or `invalid_request` (field `$`): not UTF-8, not JSON, not an object,
 * or missing where `rule` is `required`. An empty optional body is `{}`.
 */
export function decodeJson(raw: RawBody | undefined, rule: BodyRule): unknown {
  if (raw === undefined) return undefined;
  let value: unknown;
  if (raw instanceof Uint8Array) {
    if (raw.length === 0) {
      if (rule === 'optional') return {};
      throw new PassgateError('invalid_request', 'A JSON body is required.', { field: '$' });
    }
    value = parseJsonBytes(raw);
  } else {
    value = raw.parsed;
    // Some parsers leave `{}` for an empty body; treat it like one.
    if (value === undefined) value = rule === 'optional' ? {} : undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new PassgateError('invalid_request', 'The body must be a JSON object.', { field: '$' });
  }
  return value;
}

/**
 * A body an endpoint does not use (`POST /logout`, `DELETE`) still has to be valid JSON, as the
 * contract asks of every body: `invalid_request` (field `$`) otherwise, so a malformed request is
 * refused before it signs anyone out or deletes anything. Any JSON value will do: nothing reads it.
 */
export function checkUnusedJson(raw: RawBody | undefined): undefined {
  if (raw instanceof Uint8Array && raw.length > 0) parseJsonBytes(raw);
  return undefined;
}

/** Body bytes as JSON: `invalid_request` (field `$`) when they are not UTF-8 or not JSON. */
function parseJsonBytes(raw: Uint8Array): unknown {
  try {
    return JSON.parse(utf8.decode(raw));
  } catch {
    throw new PassgateError('invalid_request', 'The body is not valid JSON.', { field: '$' });
  }
}
