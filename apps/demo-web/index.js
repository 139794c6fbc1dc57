// The shared demo page: its files for the demo apps to serve as static files, and the page itself with
// the headers to send it with (Content-Security-Policy included), whatever the framework.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the page's static files (app.js, passkey-ui.js, style.css). */
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

/**
 * The frame every demo page shares (head and import map, topbar, status line, footer), with
 * `{{slot}}`s for what each page says. Outside `publicDir` on purpose: it is no page on its own.
 */
export const layoutFile = fileURLToPath(new URL('./layout.html', import.meta.url));

/** The Passgate demo's page (express-demo, nestjs-demo): its slots of `layoutFile`. */
export const demoPageFile = fileURLToPath(new URL('./page.html', import.meta.url));

/** The slots a page must fill, and the one it may leave out. */
const REQUIRED_SLOTS = ['title', 'script', 'brand', 'main', 'footer'];
const OPTIONAL_SLOTS = ['body-attributes'];
/** A slot's template, or a comment outside one (skipped: a comment may mention a template). */
const SLOT_OR_COMMENT = /<!--[\s\S]*?-->|<template data-slot="([^"]*)">([\s\S]*?)<\/template>/g;

/**
 * The page's HTML: `layoutFile` with each `{{slot}}` replaced by the page file's
 * `<template data-slot="slot">…</template>` content, trimmed; anything else in the page file
 * (comments) is not sent. Throws, naming the file, on an unknown, repeated or missing slot, so a
 * typo stops the demo at start rather than sending a page with a hole in it.
 */
export function renderPage(file) {
  const slots = new Map();
  for (const [, name, content] of readFileSync(file, 'utf8').matchAll(SLOT_OR_COMMENT)) {
    if (name === undefined) continue;
    if (!REQUIRED_SLOTS.includes(name) && !OPTIONAL_SLOTS.includes(name)) {
      throw new Error(`${file}: unknown slot "${name}"`);
    }
    if (slots.has(name)) throw new Error(`${file}: slot "${name}" is filled twice`);
    slots.set(name, content.trim());
  }
  const missing = REQUIRED_SLOTS.filter((name) => !slots.has(name));
  if (missing.length > 0) throw new Error(`${file}: missing slot(s) ${missing.join(', ')}`);
  const attributes = slots.get('body-attributes');
  slots.set('body-attributes', attributes ? ` ${attributes}` : '');
  // A function replacement, so a `$` in the page's HTML is never read as a replacement pattern.
  return readFileSync(layoutFile, 'utf8').replace(/\{\{([a-z-]+)\}\}/g, (_, name) => slots.get(name));
}

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
 * Reads the page once: its HTML (`renderPage`) and the response headers to send it with (at `/`,
 * `/account`, …). In Express: `res.set(page.headers).send(page.html)`. `file` defaults to the
 * Passgate demo's page; another demo passes its own page file (the same layout, import map and headers).
 */
export function loadPage(file = demoPageFile) {
  const html = renderPage(file);
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
