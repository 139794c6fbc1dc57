import { readFileSync } from 'node:fs';

/**
 * Names of passkey providers by AAGUID, so an account page can say "iCloud Keychain" instead of a
 * UUID. The built-in list is the community-maintained list of passkey providers, vendored as data in
 * `data/passkey-provider-aaguids.json` (provenance and the refresh script: `data/README.md`);
 * applications add or override entries through `authenticatorNames` (security keys, their own fleet,
 * Chrome's virtual authenticator in tests).
 *
 * A name is a label, not a proof: without attestation the AAGUID is whatever the authenticator says.
 * Trust decisions belong to the attestation policy and the FIDO Metadata Service, never to this list.
 */

let providerNames: Readonly<Record<string, string>> | undefined;

/**
 * The vendored community list (AAGUID in lower case → name). Read from the package's `data/` folder
 * on first use and cached; throws if the package was installed without it.
 */
export function passkeyProviderNames(): Readonly<Record<string, string>> {
  providerNames ??= Object.freeze(
    JSON.parse(
      readFileSync(new URL('../data/passkey-provider-aaguids.json', import.meta.url), 'utf8'),
    ) as Record<string, string>,
  );
  return providerNames;
}

/**
 * A lookup from AAGUID (any case) to a display name, or `null` when neither the community list nor
 * `extra` knows it. `extra` wins over the list.
 */
export function createAuthenticatorNamer(
  extra: Record<string, string> = {},
): (aaguid: string) => string | null {
  const table = new Map<string, string>();
  for (const [aaguid, name] of Object.entries({ ...passkeyProviderNames(), ...extra })) {
    table.set(aaguid.toLowerCase(), name);
  }
  return (aaguid) => table.get(aaguid.toLowerCase()) ?? null;
}
