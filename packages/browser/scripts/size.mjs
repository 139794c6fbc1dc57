// The client's cost on top of @simplewebauthn/browser: bundles dist/index.js (built by `tsc -b`)
// with @simplewebauthn/browser left external, minifies it, and measures gzip. Fails above the
// budget. Uses rolldown (already in the workspace through vitest's vite), so measuring downloads
// nothing new. Run `pnpm --filter @passgate/browser build` first.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { rolldown } from 'rolldown';

const BUDGET_BYTES = 6 * 1024;
const entry = fileURLToPath(new URL('../dist/index.js', import.meta.url));
if (!existsSync(entry)) {
  console.error('dist/index.js is missing: build the package first (pnpm --filter @passgate/browser build).');
  process.exit(1);
}

/** Minified bytes and their gzip size, for the whole module (`external` left as imports). */
async function measure(input, external) {
  const bundle = await rolldown({ input, external, logLevel: 'silent' });
  const { output } = await bundle.generate({ format: 'esm', minify: true });
  await bundle.close();
  const code = output.map((chunk) => (chunk.type === 'chunk' ? chunk.code : '')).join('');
  return { min: Buffer.byteLength(code), gzip: gzipSync(code, { level: 9 }).length };
}

const kb = (bytes) => `${(bytes / 1024).toFixed(2)} KB`;
const ours = await measure(entry, [/^@simplewebauthn\//]);
const library = await measure(fileURLToPath(import.meta.resolve('@simplewebauthn/browser')), []);

console.log(
  `@passgate/browser on top of @simplewebauthn/browser: ${kb(ours.min)} min, ${kb(ours.gzip)} min+gzip`,
);
console.log(
  `@simplewebauthn/browser 14 itself (everything):    ${kb(library.min)} min, ${kb(library.gzip)} min+gzip`,
);
console.log(`budget: ${kb(BUDGET_BYTES)} min+gzip on top`);
if (ours.gzip > BUDGET_BYTES) {
  console.error(`over budget by ${ours.gzip - BUDGET_BYTES} bytes`);
  process.exit(1);
}
