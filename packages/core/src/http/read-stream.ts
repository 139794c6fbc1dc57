import { PassgateError } from '../errors.js';

/**
 * Reads a Node.js request stream up to `limit` bytes, for adapters on `http.IncomingMessage`
 * (Express, NestJS on Express). Rejects with `payload_too_large` as soon as the limit is passed and
 * stops reading; what was read is dropped. The connection is left for the framework to finish.
 */
export function readLimitedStream(
  stream: NodeJS.ReadableStream & { readableEnded?: boolean },
  limit: number,
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    if (stream.readableEnded) {
      resolve(new Uint8Array(0));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const cleanup = () => {
      stream.removeListener('data', onData);
      stream.removeListener('end', onEnd);
      stream.removeListener('error', onError);
    };
    const onData = (chunk: Buffer | string) => {
      if (done) return;
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += buffer.length;
      if (size > limit) {
        done = true;
        cleanup();
        // Keep draining without buffering, so the client can read our 413 instead of a reset.
        stream.resume();
        reject(new PassgateError('payload_too_large'));
        return;
      }
      chunks.push(buffer);
    };
    const onEnd = () => {
      if (done) return;
      done = true;
      cleanup();
      // A body of one chunk (most of them) as it came; several joined once, not copied again.
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    const onError = (error: unknown) => {
      if (done) return;
      done = true;
      cleanup();
      reject(
        new PassgateError('invalid_request', 'The request body could not be read.', {
          field: '$',
          cause: error,
        }),
      );
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
  });
}
