import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CHILD = fileURLToPath(new URL('../dist/processes/child.js', import.meta.url));
const STORES = fileURLToPath(new URL('./processes/memory-stores.fixture.mjs', import.meta.url));
const ORIGIN = 'https://app.example.test';

describe('the shared-store child (describeSharedStoreAcrossProcesses)', () => {
  // Its origin is https and it listens on plain http, as an instance behind a TLS-terminating proxy
  // does: it must say so to the contract handler rather than print, into the user's test output, a
  // warning telling them to set Express's `trust proxy`.
  it('serves the contract without warning about an http request for an https origin', async () => {
    const child = spawn(process.execPath, [CHILD], {
      env: {
        ...process.env,
        PASSGATE_PROCESSES_STORES_MODULE: STORES,
        PASSGATE_PROCESSES_RP_ID: 'app.example.test',
        PASSGATE_PROCESSES_ORIGIN: ORIGIN,
        PASSGATE_PROCESSES_SECRET: 'a secret of at least thirty-two bytes!',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const exited = new Promise((done) => child.once('exit', done));
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString('utf8');
          if (out.includes('\n')) resolve((JSON.parse(out.split('\n')[0] ?? '') as { port: number }).port);
        });
        child.once('exit', (code) => reject(new Error(`child exited (${code}): ${stderr}`)));
      });
      const answer = await fetch(`http://127.0.0.1:${port}/passkeys/login/options`, {
        method: 'POST',
        headers: { origin: ORIGIN, 'content-type': 'application/json' },
        body: '{}',
      });
      expect(answer.status).toBe(200);
      // The ceremony cookie is Secure, as behind the proxy the browser speaks https.
      expect(answer.headers.get('set-cookie')).toMatch(/;\s*Secure/i);
    } finally {
      child.stdin.end();
      await exited;
    }
    expect(stderr).not.toMatch(/arrived over http/);
  });
});
