import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { indexHtml } from '@passgate/demo-web';
import type { Response } from 'express';

/** The shared browser page (@passgate/demo-web), served with the same headers as the Express demo. */
export interface DemoPage {
  send(res: Response): void;
}

/** A Content-Security-Policy for the page, allowing its one inline script (the import map) by hash. */
function contentSecurityPolicy(html: string): string {
  const hashes = [...html.matchAll(/<script type="importmap">([\s\S]*?)<\/script>/g)].map(
    (m) =>
      `'sha256-${createHash('sha256')
        .update(m[1] ?? '')
        .digest('base64')}'`,
  );
  return [
    "default-src 'self'",
    `script-src 'self' ${hashes.join(' ')}`,
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join('; ');
}

export function loadPage(): DemoPage {
  const html = readFileSync(indexHtml, 'utf8');
  const csp = contentSecurityPolicy(html);
  return {
    send(res) {
      res.set({
        'Content-Type': 'text/html; charset=utf-8',
        'Cache-Control': 'no-store',
        'Content-Security-Policy': csp,
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'same-origin',
      });
      res.send(html);
    },
  };
}
