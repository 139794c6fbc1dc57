/** Absolute path of the page's folder (index.html, app.js, style.css). */
export declare const publicDir: string;
/** Absolute path of @simplewebauthn/browser's `esm/` folder. */
export declare const simplewebauthnBrowserDir: string;
/** Where the page expects `simplewebauthnBrowserDir` to be served: `/vendor/simplewebauthn-browser`. */
export declare const simplewebauthnBrowserPath: string;
/** Absolute path of `index.html`, for serving it at other paths (e.g. `/account`). */
export declare const indexHtml: string;
