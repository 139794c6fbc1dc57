import { isIPv4, isIPv6 } from 'node:net';
import { type RateLimiterAbstract, RateLimiterMemory, type RateLimiterRes } from 'rate-limiter-flexible';
import { DEFAULTS, type PassgateLogger, type RateLimitBucket, type RateLimitOptions } from './config.js';
import { PassgateError } from './errors.js';
import { storeFailure } from './store-failures.js';

/**
 * The contract's two buckets on rate-limiter-flexible (a well-kept limiter with memory, Redis and
 * PostgreSQL stores, so a cluster can share limits by passing a store-backed limiter).
 * Limits fail closed: a limiter whose store fails is classified like a store (`storeFailure`): an
 * outage is `store_unavailable` (503), any other error (`WRONGTYPE` on its key, a missing table) is
 * `internal_error` (500), logged. An adapter's limiter marks its outages with `storeUnavailable`
 * (as `createRedisRateLimiters` does); a bare limiter's outage is recognised by its network code only.
 */
export class RateLimits {
  private readonly perIp: RateLimiterAbstract | null;
  private readonly accountFailures: RateLimiterAbstract | null;

  constructor(
    options: RateLimitOptions,
    private readonly logger: PassgateLogger,
  ) {
    this.perIp = toLimiter(options.perIp, DEFAULTS.perIp, 'passgate_ip');
    this.accountFailures = toLimiter(options.accountFailures, DEFAULTS.accountFailures, 'passgate_acct');
  }

  /** The per-IP limiter in force (`null`: off), for `usableCountingStore`. */
  get perIpLimiter(): RateLimiterAbstract | null {
    return this.perIp;
  }

  /** Counts one options or verify request from `ip`; throws `rate_limited` once the bucket is empty. */
  async consumeIp(ip: string | undefined): Promise<void> {
    if (!this.perIp) return;
    try {
      await this.perIp.consume(clientKey(ip));
    } catch (error) {
      throw this.toPassgateError(error, 'rate_limit_ip');
    }
  }

  /**
   * Counts one failed verification against `key` (an account's user handle, or an unknown
   * username's stand-in handle) with the limiter's atomic `consume`: concurrent failures never both
   * take the last point, whatever the limiter's store. Resolves the error to answer instead of the
   * failure's own: `rate_limited` when the bucket was already empty, the store error
   * (`store_unavailable` or `internal_error`) when the limiter's store failed (limits fail closed);
   * `null` while the bucket still had points.
   * Only failures are counted, so a validly signed assertion is never refused by this bucket.
   */
  async recordAccountFailure(key: string): Promise<PassgateError | null> {
    if (!this.accountFailures) return null;
    try {
      await this.accountFailures.consume(key);
      return null;
    } catch (error) {
      return this.toPassgateError(error, 'rate_limit_account');
    }
  }

  private toPassgateError(error: unknown, operation: string): PassgateError {
    if (isRateLimiterRes(error)) {
      return rateLimited(error.msBeforeNext, operation === 'rate_limit_ip' ? PER_IP_REFUSAL : undefined);
    }
    return storeFailure(error, operation, this.logger);
  }
}

function toLimiter(
  option: RateLimitBucket | RateLimiterAbstract | false | undefined,
  fallback: RateLimitBucket,
  keyPrefix: string,
): RateLimiterAbstract | null {
  if (option === false) return null;
  if (option && 'consume' in option) return option;
  const bucket = option ?? fallback;
  if (!(bucket.points > 0) || !(bucket.durationSeconds > 0)) {
    throw new TypeError('rate limit points and durationSeconds must be positive');
  }
  return new RateLimiterMemory({ points: bucket.points, duration: bucket.durationSeconds, keyPrefix });
}

/**
 * The `reason` (server-side only) of a `rate_limited` error from the per-IP bucket; the account
 * bucket's has none. The telemetry tells the buckets apart by it, now that a ceremony step may
 * throw either (a per-IP refusal counted in the ceremony's store operation is no ceremony attempt).
 */
export const PER_IP_REFUSAL = 'per_ip_bucket';

/** The `rate_limited` error for a bucket whose window ends in `msBeforeNext` ms (`Retry-After`, whole seconds, at least 1). */
export function rateLimited(msBeforeNext: number, reason?: string): PassgateError {
  return new PassgateError('rate_limited', undefined, {
    retryAfterSeconds: Math.max(1, Math.ceil(msBeforeNext / 1000)),
    ...(reason !== undefined ? { reason } : {}),
  });
}

/**
 * A limiter's "over the limit" answer, recognised by its shape: rate-limiter-flexible rejects with a
 * `RateLimiterRes`, but an application may hand us a limiter built with another copy or version of
 * the library, whose class is not ours, so `instanceof` would misread a refusal as an outage.
 */
export function isRateLimiterRes(
  value: unknown,
): value is Pick<RateLimiterRes, 'msBeforeNext' | 'consumedPoints' | 'remainingPoints'> {
  if (typeof value !== 'object' || value === null || value instanceof Error) return false;
  const res = value as Record<string, unknown>;
  return (
    typeof res['msBeforeNext'] === 'number' &&
    typeof res['consumedPoints'] === 'number' &&
    typeof res['remainingPoints'] === 'number'
  );
}

/**
 * The per-IP bucket's key. IPv6 clients are counted per /64, the smallest block an ISP or host gives
 * one customer: keyed by full address, one client would have 2^64 buckets. IPv4-mapped IPv6
 * addresses count as their IPv4 address.
 */
export function clientKey(ip: string | undefined): string {
  if (!ip) return 'unknown';
  const address = ip.trim().toLowerCase().replace(/%.*$/, '');
  if (address.startsWith('::ffff:') && isIPv4(address.slice(7))) return address.slice(7);
  if (!isIPv6(address)) return address;
  const [head = '', tail] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  // An embedded IPv4 tail (a.b.c.d) takes two groups; it only ever sits in the low 64 bits.
  const rightGroups = right.reduce((n, part) => n + (part.includes('.') ? 2 : 1), 0);
  const groups =
    tail === undefined ? left : [...left, ...Array(8 - left.length - rightGroups).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
