import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * What the integrations may use is the public surface: `Passgate.runtime` (and anything else marked
 * `@internal`) is stripped from the published declarations (`stripInternal`), so a framework package
 * that reached into it would no longer type-check. Reads the built `dist` (the tests run on it too).
 */
describe('the published types', () => {
  it('declare Passgate without its internal runtime', () => {
    const declaration = readFileSync(new URL('../dist/passgate.d.ts', import.meta.url), 'utf8');
    expect(declaration).toMatch(/export declare class Passgate\b/);
    expect(declaration).toMatch(/startRegistration\(/);
    expect(declaration).not.toMatch(/\bruntime\b/);
  });
});
