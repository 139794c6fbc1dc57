// The shared demo page: its files for the demo apps to serve as static files, and the page itself with
// the headers to send it with (Content-Security-Policy included), whatever the framework.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the page's folder (index.html, app.js, style.css). */
export const publicDir = fileURLToPath(new URL('./public/', import.meta.url));

/**
 * Absolute path of @passgate/browser's built ES modules (its `dist/` folder). The page imports it
 * as `/vendor/passgate-browser/index.js` through an import map, so serve this folder there.
 */
export const passgateBrowserDir = dirname(fileURLToPath(import.meta.resolve('@passgate/browser')));

/** Where the page expects `passgateBrowserDir` to be served. */
export const passgateBrowserPath = '/vendor/passgate-browser';

/**
 * Absolute path of @simplewebauthn/browser's `esm/` folder (its ES module build), which
 * @passgate/browser imports. The import map points the name at `/vendor/simplewebauthn-browser/index.js`,
 * so serve this folder there.
 */
export const simplewebauthnBrowserDir = dirname(
  fileURLToPath(import.meta.resolve('@simplewebauthn/browser')),
);

/** Where the page expects `simplewebauthnBrowserDir` to be served. */
export const simplewebauthnBrowserPath = '/vendor/simplewebauthn-browser';

/** The page's HTML file, for serving it at other paths (e.g. `/account`). */
export const indexHtml = join(publicDir, 'index.html');

/** A Content-Security-Policy for the page, allowing its one inline script (the import map) by hash. */
function contentSecurityPolicy(html) {
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

/**
 * Reads the page once: its HTML and the response headers to send it with (at `/`, `/account`, …).
 * In Express: `res.set(page.headers).send(page.html)`. `file` defaults to this page's `index.html`;
 * another demo passes its own page (same import map rules, same headers).
 */
export function loadPage(file = indexHtml) {
  const html = readFileSync(file, 'utf8');
  return {
    html,
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      'Content-Security-Policy': contentSecurityPolicy(html),
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'same-origin',
    },
  };
}
