import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createAuthenticatorNamer, passkeyProviderNames } from '@passgate/core';
import { SoftwareAuthenticator } from '@passgate/testing';
import { describe, expect, it } from 'vitest';
import { makePassgate, signUp } from './helpers.js';

const run = promisify(execFile);
const script = fileURLToPath(new URL('../scripts/refresh-authenticator-names.mjs', import.meta.url));
const dataFile = fileURLToPath(new URL('../data/passkey-provider-aaguids.json', import.meta.url));
const ICLOUD = 'fbfc3007-154e-4ecc-8c0b-6e020557d7bd';
const BITWARDEN = 'd548826e-79b4-db40-a3d8-11116f7e8349';
const YUBIKEY_5 = 'cb69481e-8ff7-4039-93ec-0a2729a154a8';

async function refresh(source: unknown, current = '{"aa":"kept"}\n') {
  const dir = await mkdtemp(join(tmpdir(), 'passgate-names-'));
  const input = join(dir, 'new.json');
  const out = join(dir, 'out.json');
  await writeFile(input, typeof source === 'string' ? source : JSON.stringify(source));
  await writeFile(out, current);
  const result = await run(process.execPath, [script, input, '--out', out]).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );
  return { ...result, written: await readFile(out, 'utf8') };
}

describe('authenticator names', () => {
  it('come from the vendored community list of passkey providers', async () => {
    const names = passkeyProviderNames();
    expect(JSON.parse(await readFile(dataFile, 'utf8'))).toEqual(names);
    expect(Object.keys(names).length).toBeGreaterThan(21);
    for (const [aaguid, name] of Object.entries(names)) {
      expect(aaguid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(name.trim()).not.toBe('');
    }
    const name = createAuthenticatorNamer();
    expect(name(ICLOUD)).toBe('Apple Passwords');
    expect(name(BITWARDEN.toUpperCase())).toBe('Bitwarden');
    // Security keys are not passkey providers: the application names them (or FIDO MDS does).
    expect(name(YUBIKEY_5)).toBeNull();
  });

  it("take the application's own names on top, which win over the list", () => {
    const name = createAuthenticatorNamer({ [YUBIKEY_5.toUpperCase()]: 'YubiKey 5', [ICLOUD]: 'Apple' });
    expect(name(YUBIKEY_5)).toBe('YubiKey 5');
    expect(name(ICLOUD)).toBe('Apple');
    expect(name(BITWARDEN)).toBe('Bitwarden');
  });

  it('fill Credential.authenticatorName at registration', async () => {
    const h = makePassgate();
    const synced = await signUp(h, new SoftwareAuthenticator({ aaguid: BITWARDEN }), 'alice');
    expect(synced.credential.authenticatorName).toBe('Bitwarden');
    const unknown = await signUp(h, new SoftwareAuthenticator({ aaguid: YUBIKEY_5 }), 'bob');
    expect(unknown.credential.authenticatorName).toBeNull();
  });

  it('ship in the published package', async () => {
    const manifest = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
    expect(manifest.files).toContain('data');
  });
});

describe('refresh-authenticator-names script', () => {
  it('keeps names only from the upstream format, sorted by AAGUID in lower case', async () => {
    const result = await refresh({
      [ICLOUD]: { name: 'iCloud Keychain', icon_dark: 'data:image/svg+xml;base64,AA', icon_light: 'x' },
      [BITWARDEN.toUpperCase()]: { name: ' Bitwarden ' },
    });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.written)).toEqual({ [BITWARDEN]: 'Bitwarden', [ICLOUD]: 'iCloud Keychain' });
    expect(Object.keys(JSON.parse(result.written))).toEqual([BITWARDEN, ICLOUD]);
  });

  it('reads its own names-only format back unchanged', async () => {
    const current = await readFile(dataFile, 'utf8');
    const result = await refresh(current, 'old');
    expect(result.code).toBe(0);
    expect(result.written).toBe(current);
  });

  it('refuses an empty list and leaves the file as it was', async () => {
    const result = await refresh({});
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/empty/);
    expect(result.written).toBe('{"aa":"kept"}\n');
  });

  it('refuses keys that are not AAGUIDs, missing names and non-objects', async () => {
    for (const bad of [{ 'not-a-uuid': 'X' }, { [ICLOUD]: { icon_dark: 'x' } }, [], 'nonsense{']) {
      const result = await refresh(bad);
      expect(result.code).toBe(1);
      expect(result.written).toBe('{"aa":"kept"}\n');
    }
  });
});
