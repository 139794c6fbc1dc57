/**
 * Names of well-known authenticators by AAGUID, so an account page can say "iCloud Keychain" instead
 * of a UUID. A short built-in list of the passkey providers and security keys people meet most
 * (from the community-maintained passkey AAGUID list); applications extend or override it through
 * `authenticatorNames`, or feed it from the FIDO Metadata Service.
 *
 * A name is a label, not a proof: without attestation the AAGUID is whatever the authenticator says.
 */
export const KNOWN_AUTHENTICATORS: Readonly<Record<string, string>> = {
  'fbfc3007-154e-4ecc-8c0b-6e020557d7bd': 'iCloud Keychain',
  'dd4ec289-e01d-41c9-bb89-70fa845d4bf2': 'iCloud Keychain (Managed)',
  'ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4': 'Google Password Manager',
  'adce0002-35bc-c60a-648b-0b25f1f05503': 'Chrome on Mac',
  '08987058-cadc-4b81-b6e1-30de50dcbe96': 'Windows Hello',
  '9ddd1817-af5a-4672-a2b9-3e3dd95000a9': 'Windows Hello',
  '6028b017-b1d4-4c02-b4b3-afcdafc96bb2': 'Windows Hello',
  'bada5566-a7aa-401f-bd96-45619a55120d': '1Password',
  'd548826e-79b4-db40-a3d8-11116f7e8349': 'Bitwarden',
  '531126d6-e717-415c-9320-3d9aa6981239': 'Dashlane',
  'b84e4048-15dc-4dd0-8640-f4f60813c8af': 'NordPass',
  '0ea242b4-43c4-4a1b-8b17-dd6d0b6baec6': 'Keeper',
  '53414d53-554e-4700-0000-000000000000': 'Samsung Pass',
  '771b48fd-d3d4-4f74-9232-fc157ab0507a': 'Edge on Mac',
  'cb69481e-8ff7-4039-93ec-0a2729a154a8': 'YubiKey 5 Series',
  'ee882879-721c-4913-9775-3dfcce97072a': 'YubiKey 5 Series',
  'fa2b99dc-9e39-4257-8f92-4a30d23c4118': 'YubiKey 5 Series with NFC',
  '2fc0579f-8113-47ea-b116-bb5a8db9202a': 'YubiKey 5 Series with NFC',
  'c5ef55ff-ad9a-4b9f-b580-adebafe026d0': 'YubiKey 5Ci',
  '42b4fb4a-2866-43b2-9bf7-6c6669c2e5d3': 'Google Titan Security Key',
  // Chrome's DevTools virtual authenticator, which the browser tests and local experiments use.
  '01020304-0506-0708-0102-030405060708': 'Chrome virtual authenticator',
};

export function createAuthenticatorNamer(
  extra: Record<string, string> = {},
): (aaguid: string) => string | null {
  const table = new Map<string, string>();
  for (const [aaguid, name] of Object.entries({ ...KNOWN_AUTHENTICATORS, ...extra })) {
    table.set(aaguid.toLowerCase(), name);
  }
  return (aaguid) => table.get(aaguid.toLowerCase()) ?? null;
}
