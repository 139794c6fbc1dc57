// Paths of the shared demo page, for the demo apps to serve as static files.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the page's folder (index.html, app.js, style.css). */
export const publicDir = fileURLToPath(new URL('./public/', import.meta.url));

/**
 * Absolute path of @simplewebauthn/browser's `esm/` folder (its ES module build). The page imports it
 * as `/vendor/simplewebauthn-browser/index.js` through an import map, so serve this folder there.
 */
export const simplewebauthnBrowserDir = dirname(
  fileURLToPath(import.meta.resolve('@simplewebauthn/browser')),
);

/** Where the page expects `simplewebauthnBrowserDir` to be served. */
export const simplewebauthnBrowserPath = '/vendor/simplewebauthn-browser';

/** The page's HTML file, for serving it at other paths (e.g. `/account`). */
export const indexHtml = join(publicDir, 'index.html');
