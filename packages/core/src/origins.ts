import { parse } from 'tldts';
import type { RelyingPartyOptions, RequestContext } from './config.js';

/**
 * Where passkeys of this relying party may be used, as browsers and platforms will check it:
 * the site's own origins, its related origins (WebAuthn Level 3 related origin requests, served at
 * `/.well-known/webauthn`) and native app origins. Every list is checked when Passgate starts, so a
 * deployment that browsers would silently half-ignore fails loudly instead, naming the bad entry.
 */

/** Browsers follow at most this many distinct registrable-domain labels of a `/.well-known/webauthn` list. */
export const MAX_RELATED_ORIGIN_LABELS = 5;

/** The Android app origin: `android:apk-key-hash:` and the base64url SHA-256 of the signing certificate. */
const ANDROID_APP_ORIGIN = /^android:apk-key-hash:[A-Za-z0-9_-]{43}$/;

const configError = (message: string) => new TypeError(`passgate: ${message}`);

/** Loopback hosts are secure contexts over plain http; everything else needs https. */
function isLoopbackHost(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname.endsWith('.localhost') ||
    hostname === '127.0.0.1' ||
    hostname === '[::1]'
  );
}

/**
 * A web origin as browsers serialise it (`https://host[:port]`, no path), https unless the host is a
 * loopback name. Throws a `TypeError` naming `option` and the entry.
 */
export function assertWebOrigin(origin: unknown, option: string): asserts origin is string {
  let parsed: URL;
  try {
    parsed = new URL(String(origin));
  } catch {
    throw configError(`${option}: "${String(origin)}" is not an origin`);
  }
  if (typeof origin !== 'string' || parsed.origin !== origin) {
    throw configError(`${option}: "${String(origin)}" is not an origin (expected "${parsed.origin}")`);
  }
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname))) {
    throw configError(
      `${option}: "${origin}" must be https (plain http is a secure context only on localhost)`,
    );
  }
}

/**
 * A native app origin, matched exactly, never by pattern: `android:apk-key-hash:<base64url SHA-256
 * of the app's signing certificate>`. (iOS apps send the https origin of their associated domain,
 * which belongs in `origins`.)
 */
export function assertAppOrigin(origin: unknown): asserts origin is string {
  if (typeof origin !== 'string' || !ANDROID_APP_ORIGIN.test(origin)) {
    throw configError(
      `rp.appOrigins: "${String(origin)}" is not an app origin (expected android:apk-key-hash:<43 base64url characters>)`,
    );
  }
}

/**
 * The label browsers count for the five-label limit: the registrable domain without its public
 * suffix (`https://shop.example.co.uk` → `example`), from the Public Suffix List including its
 * private section (as browsers use it). `null` when the host has no registrable domain (an IP
 * address, `localhost`, a bare public suffix): browsers skip such entries.
 */
export function relatedOriginLabel(origin: string): string | null {
  const { hostname } = new URL(origin);
  const result = parse(hostname, { allowPrivateDomains: true });
  return result.isIp || !result.domain ? null : result.domainWithoutSuffix;
}

/**
 * Checks a related-origins list the way browsers will read it: each entry a web origin, no
 * duplicates, each with a registrable domain, and at most five distinct labels (browsers ignore the
 * entries past the fifth label, so those would fail in the field while working in tests).
 */
export function assertRelatedOrigins(origins: unknown): asserts origins is string[] {
  if (!Array.isArray(origins)) throw configError('rp.relatedOrigins must be a list of origins');
  const seen = new Set<string>();
  const labels = new Set<string>();
  for (const origin of origins) {
    assertWebOrigin(origin, 'rp.relatedOrigins');
    if (seen.has(origin)) throw configError(`rp.relatedOrigins: "${origin}" is listed twice`);
    seen.add(origin);
    const label = relatedOriginLabel(origin);
    if (label === null) {
      throw configError(
        `rp.relatedOrigins: "${origin}" has no registrable domain (an IP address or localhost), so browsers ignore it`,
      );
    }
    labels.add(label);
    if (labels.size > MAX_RELATED_ORIGIN_LABELS) {
      throw configError(
        `rp.relatedOrigins: "${origin}" brings a ${labels.size}th registrable-domain label ("${label}"); ` +
          `browsers follow at most ${MAX_RELATED_ORIGIN_LABELS} (${[...labels].slice(0, -1).join(', ')})`,
      );
    }
  }
}

/** Origins resolved from `RelyingPartyOptions`, static lists checked once. */
export interface ResolvedOrigins {
  /** Every origin accepted in `clientDataJSON.origin` and the `Origin` header: own, related, app. */
  accepted(context: RequestContext): string[];
  /** The related origins to serve at `/.well-known/webauthn`, in configured order (`[]`: none). */
  related(context: RequestContext): string[];
}

/**
 * Checks the RP's origin lists and returns the per-request lookups. Static lists are checked here,
 * once; lists a function returns are checked on each call (a bad one throws a `TypeError`, which the
 * HTTP layer answers as `500 internal_error` and logs).
 */
export function resolveOrigins(rp: RelyingPartyOptions): ResolvedOrigins {
  if (!Array.isArray(rp.origins) && typeof rp.origins !== 'function') {
    throw configError('rp.origins is required');
  }
  const own = perRequest(rp.origins, (list) => {
    if (!Array.isArray(list)) throw configError('rp.origins must be a list of origins');
    if (list.length === 0) throw configError('rp.origins must list at least one origin');
    for (const origin of list) assertWebOrigin(origin, 'rp.origins');
  });
  const related = perRequest(rp.relatedOrigins ?? [], assertRelatedOrigins);
  const apps = [...(rp.appOrigins ?? [])];
  for (const origin of apps) assertAppOrigin(origin);
  return {
    related,
    accepted(context) {
      const extra = [...related(context), ...apps];
      const list = own(context);
      return extra.length === 0 ? list : [...new Set([...list, ...extra])];
    },
  };
}

function perRequest(
  value: string[] | ((context: RequestContext) => string[]),
  check: (value: unknown) => void,
): (context: RequestContext) => string[] {
  if (typeof value !== 'function') {
    check(value);
    const copy = [...value];
    return () => copy;
  }
  const pick = value;
  return (context) => {
    const result = pick(context);
    check(result);
    return result;
  };
}
