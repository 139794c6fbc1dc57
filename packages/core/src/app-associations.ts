/**
 * The two files that let a site's own mobile apps use the site's passkeys, built from configuration.
 * Serve them at the root of the RP ID's host, as `application/json`, without redirects:
 *
 * - `GET /.well-known/assetlinks.json` → `assetLinks([...])` (Android Credential Manager checks it;
 *   the app's passkey responses then carry the origin `androidAppOrigin(fingerprint)`, which must be
 *   in `rp.appOrigins`).
 * - `GET /.well-known/apple-app-site-association` → `appleAppSiteAssociation([...])` (iOS checks its
 *   `webcredentials`; the app's responses carry the site's own https origin, already in `rp.origins`).
 */

/** An Android app allowed to use the site's passkeys. */
export interface AndroidApp {
  /** The application id, e.g. `com.example.app`. */
  packageName: string;
  /**
   * SHA-256 fingerprints of the app's signing certificates, as `keytool -list` prints them
   * (`AB:CD:...`, 32 bytes). Use the Play App Signing certificate for apps Google Play signs.
   */
  sha256CertFingerprints: string[];
}

const FINGERPRINT = /^[0-9A-F]{2}(:[0-9A-F]{2}){31}$/;
const PACKAGE_NAME = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$/;
/** `TEAMID.bundle.id`: a 10-character Apple team id, then the bundle id. */
const APPLE_APP_ID = /^[A-Z0-9]{10}\.[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/;

function fingerprint(value: string): string {
  const upper = String(value).toUpperCase();
  if (!FINGERPRINT.test(upper)) {
    throw new TypeError(`"${value}" is not a SHA-256 certificate fingerprint (AB:CD:... with 32 bytes)`);
  }
  return upper;
}

/**
 * The origin an Android app's passkey responses carry: `android:apk-key-hash:` and the base64url
 * SHA-256 of its signing certificate. Put it in `rp.appOrigins`.
 * @throws TypeError when `sha256CertFingerprint` is not a colon-separated SHA-256 fingerprint.
 */
export function androidAppOrigin(sha256CertFingerprint: string): string {
  const bytes = Buffer.from(fingerprint(sha256CertFingerprint).replaceAll(':', ''), 'hex');
  return `android:apk-key-hash:${bytes.toString('base64url')}`;
}

/**
 * The Digital Asset Links statement list for `/.well-known/assetlinks.json`: each app may sign in
 * with the site's credentials (`get_login_creds`) and open its links (`handle_all_urls`).
 * @throws TypeError naming the bad package name or fingerprint.
 */
export function assetLinks(apps: AndroidApp[]): object[] {
  return apps.map((app) => {
    if (!PACKAGE_NAME.test(app.packageName)) {
      throw new TypeError(`"${app.packageName}" is not an Android package name`);
    }
    if (app.sha256CertFingerprints.length === 0) {
      throw new TypeError(`${app.packageName}: list at least one sha256CertFingerprint`);
    }
    return {
      relation: ['delegate_permission/common.handle_all_urls', 'delegate_permission/common.get_login_creds'],
      target: {
        namespace: 'android_app',
        package_name: app.packageName,
        sha256_cert_fingerprints: app.sha256CertFingerprints.map(fingerprint),
      },
    };
  });
}

/**
 * The `apple-app-site-association` document for passkeys: `{ webcredentials: { apps } }` with app ids
 * `TEAMID.bundle.id` (the app lists `webcredentials:<rp id>` in its Associated Domains entitlement).
 * @throws TypeError naming an app id that is not `TEAMID.bundle.id`.
 */
export function appleAppSiteAssociation(appIds: string[]): { webcredentials: { apps: string[] } } {
  for (const id of appIds) {
    if (!APPLE_APP_ID.test(id)) throw new TypeError(`"${id}" is not an Apple app id (TEAMID.bundle.id)`);
  }
  return { webcredentials: { apps: [...appIds] } };
}
