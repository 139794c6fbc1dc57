/** Absolute path of the page's folder (index.html, app.js, style.css). */
export declare const publicDir: string;
/** Absolute path of @passgate/browser's `dist/` folder (the page's client). */
export declare const passgateBrowserDir: string;
/** Where the page expects `passgateBrowserDir` to be served: `/vendor/passgate-browser`. */
export declare const passgateBrowserPath: string;
/** Absolute path of @simplewebauthn/browser's `esm/` folder (imported by @passgate/browser). */
export declare const simplewebauthnBrowserDir: string;
/** Where the page expects `simplewebauthnBrowserDir` to be served: `/vendor/simplewebauthn-browser`. */
export declare const simplewebauthnBrowserPath: string;
/** Absolute path of `index.html`, for serving it at other paths (e.g. `/account`). */
export declare const indexHtml: string;

/** The page's HTML and the headers to serve it with. */
export interface DemoPage {
  html: string;
  /** Content-Type, Cache-Control: no-store, the Content-Security-Policy (import map allowed by hash), nosniff, Referrer-Policy. */
  headers: Readonly<Record<string, string>>;
}
/**
 * Reads `index.html` (or another demo's page, `file`) and computes its headers; in Express:
 * `res.set(page.headers).send(page.html)`.
 */
export declare function loadPage(file?: string): DemoPage;
