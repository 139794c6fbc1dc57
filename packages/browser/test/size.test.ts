import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

// The size budget (6 KB min+gzip on top of @simplewebauthn/browser) as part of the test suite: the
// script exits non-zero above it. It measures the built dist/, which `pnpm build` makes first.
test('the client stays within its size budget on top of @simplewebauthn/browser', () => {
  const script = fileURLToPath(new URL('../scripts/size.mjs', import.meta.url));
  const out = execFileSync(process.execPath, [script], { encoding: 'utf8' });
  const ours = /on top of @simplewebauthn\/browser: [\d.]+ KB min, ([\d.]+) KB min\+gzip/.exec(out);
  expect(Number(ours?.[1])).toBeGreaterThan(0.5); // it measured the real client, not an empty bundle
  expect(Number(ours?.[1])).toBeLessThanOrEqual(6);
});
