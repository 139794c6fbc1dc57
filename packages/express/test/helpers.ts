import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

export const SESSION_SECRET = 'express-adapter-test-secret-not-for-production';

/** Listens on 127.0.0.1:0; `close` also drops idle keep-alive connections so tests end promptly. */
export async function listen(app: Express): Promise<{ url: string; close(): Promise<void> }> {
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
