import { PassgateError } from '../errors.js';

/**
 * Reads a Web `ReadableStream` body up to `limit` bytes. Rejects with `payload_too_large` as soon as
 * more arrive; the rest is drained and dropped (nothing past the limit is buffered); resolves an empty array
 * for no body. A stream that fails midway is `invalid_request`, like a torn Node request.
 */
export async function readLimitedBody(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const next = await reader.read().catch((error: unknown) => {
      throw new PassgateError('invalid_request', 'The request body could not be read.', {
        field: '$',
        cause: error,
      });
    });
    if (next.done) break;
    size += next.value.byteLength;
    if (size > limit) {
      // Keep draining without buffering, so the client reads our 413 rather than a reset connection
      // (cancelling makes Node servers destroy the socket, which a keep-alive client then reuses).
      void drain(reader);
      throw new PassgateError('payload_too_large');
    }
    chunks.push(next.value);
  }
  const joined = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return joined;
}

async function drain(reader: { read(): Promise<{ done: boolean }> }): Promise<void> {
  try {
    while (!(await reader.read()).done) {}
  } catch {
    // The client went away: nothing left to drain.
  }
}
