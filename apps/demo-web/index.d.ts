/** Absolute path of the page's static files (app.js, passkey-ui.js, style.css). */
export declare const publicDir: string;
/** Absolute path of @passgate/browser's `dist/` folder (the page's client). */
export declare const passgateBrowserDir: string;
/** Where the page expects `passgateBrowserDir` to be served: `/vendor/passgate-browser`. */
export declare const passgateBrowserPath: string;
/** Absolute path of @simplewebauthn/browser's `esm/` folder (imported by @passgate/browser). */
export declare const simplewebauthnBrowserDir: string;
/** Where the page expects `simplewebauthnBrowserDir` to be served: `/vendor/simplewebauthn-browser`. */
export declare const simplewebauthnBrowserPath: string;
/** Absolute path of the frame every demo page shares (`layout.html`, with `{{slot}}`s). */
export declare const layoutFile: string;
/** Absolute path of the Passgate demo's page file (its slots of the layout). */
export declare const demoPageFile: string;

/**
 * The layout with each `{{slot}}` replaced by the trimmed content of the page file's
 * `<template data-slot="slot">`. Slots: `title`, `script`, `brand`, `main`, `footer`, and optionally
 * `body-attributes`. Throws, naming the file, on an unknown, repeated or missing slot.
 */
export declare function renderPage(file: string): string;

/** The page's HTML and the headers to serve it with. */
export interface DemoPage {
  html: string;
  /** Content-Type, Cache-Control: no-store, the Content-Security-Policy (import map allowed by hash), nosniff, Referrer-Policy. */
  headers: Readonly<Record<string, string>>;
}
/**
 * Renders the Passgate demo's page (or another demo's page file, `file`; see `renderPage`) and
 * computes its headers; in Express: `res.set(page.headers).send(page.html)`.
 */
export declare function loadPage(file?: string): DemoPage;
