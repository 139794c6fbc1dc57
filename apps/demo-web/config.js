// The demo apps' environment (HTTP contract, "Demo apps' environment"), parsed once for every demo.
// Plain JavaScript with no dependencies, so the Express and the NestJS demo import the same rules.
import { hkdfSync, randomBytes } from 'node:crypto';
import { assertRelatedOrigins } from '@passgate/core';

/** A bad value of one environment variable. `variable` names it. */
export class DemoConfigError extends Error {
  constructor(variable, message) {
    super(`${variable}: ${message}`);
    this.name = 'DemoConfigError';
    this.variable = variable;
  }
}

const STORES = ['memory', 'redis', 'postgres'];
const USER_VERIFICATION = ['required', 'preferred', 'discouraged'];
const RESIDENT_KEY = ['required', 'preferred', 'discouraged'];

function read(env, name) {
  const value = env[name];
  if (value === undefined) return undefined;
  const trimmed = String(value).trim();
  return trimmed === '' ? undefined : trimmed;
}

function integer(env, name, { min, max, fallback }) {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new DemoConfigError(name, `expected a whole number, got "${raw}"`);
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min || (max !== undefined && value > max)) {
    throw new DemoConfigError(
      name,
      `expected a number from ${min}${max === undefined ? ' up' : ` to ${max}`}, got ${raw}`,
    );
  }
  return value;
}

function oneOf(env, name, values, fallback) {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (!values.includes(raw)) {
    throw new DemoConfigError(name, `expected one of ${values.join(', ')}, got "${raw}"`);
  }
  return raw;
}

function url(env, name, protocols, fallback) {
  const raw = read(env, name) ?? fallback;
  let parsed;
  try {
    parsed = new URL(raw);
  } catch {
    throw new DemoConfigError(name, `not a URL: "${raw}"`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new DemoConfigError(name, `expected a ${protocols.join(' or ')} URL, got "${parsed.protocol}"`);
  }
  return raw;
}

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** The origin a demo listening on `port` serves, given its configuration (ORIGIN wins). */
export function originFor(config, port) {
  return config.origin ?? `http://localhost:${port}`;
}

/**
 * Parses the demo environment. Throws `DemoConfigError` (naming the variable) on a bad value.
 *
 * @param {Record<string, string | undefined>} [env]
 * @param {{ warn?: (message: string) => void }} [options]
 */
export function loadDemoConfig(env = process.env, options = {}) {
  const warn = options.warn ?? ((message) => console.warn(message));
  const port = integer(env, 'PORT', { min: 0, max: 65535, fallback: 3000 });

  const rpId = (read(env, 'RP_ID') ?? 'localhost').toLowerCase();
  if (!HOSTNAME.test(rpId)) {
    throw new DemoConfigError(
      'RP_ID',
      `expected a domain name such as "localhost" or "example.com", got "${rpId}"`,
    );
  }

  // ORIGIN defaults to http://localhost:$PORT; with PORT=0 it is known only once the server listens.
  let origin;
  const rawOrigin = read(env, 'ORIGIN');
  if (rawOrigin !== undefined) {
    let parsed;
    try {
      parsed = new URL(rawOrigin);
    } catch {
      throw new DemoConfigError('ORIGIN', `not a URL: "${rawOrigin}"`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new DemoConfigError('ORIGIN', `expected an http or https origin, got "${rawOrigin}"`);
    }
    if (
      (parsed.pathname !== '/' && parsed.pathname !== '') ||
      parsed.search ||
      parsed.hash ||
      parsed.username
    ) {
      throw new DemoConfigError('ORIGIN', `expected an origin only (scheme, host, port), got "${rawOrigin}"`);
    }
    origin = parsed.origin;
    const host = parsed.hostname;
    if (host !== rpId && !host.endsWith(`.${rpId}`)) {
      throw new DemoConfigError('ORIGIN', `its host "${host}" is not RP_ID "${rpId}" or a subdomain of it`);
    }
    if (parsed.protocol === 'http:' && host !== 'localhost' && !host.endsWith('.localhost')) {
      warn(
        'ORIGIN is plain http on a host other than localhost: browsers allow passkeys only on https there.',
      );
    }
  } else if (rpId !== 'localhost') {
    throw new DemoConfigError('ORIGIN', `must be set when RP_ID is not localhost (RP_ID is "${rpId}")`);
  } else if (port !== 0) {
    origin = `http://localhost:${port}`;
  }

  let sessionSecret = read(env, 'SESSION_SECRET');
  const sessionSecretGenerated = sessionSecret === undefined;
  if (sessionSecretGenerated) {
    sessionSecret = randomBytes(32).toString('base64url');
    warn(
      'SESSION_SECRET is not set: using a random one for this process. Sessions end on restart, and ' +
        'several instances will not share sign-ins. Set SESSION_SECRET (32+ random characters).',
    );
  } else if (sessionSecret.length < 16) {
    throw new DemoConfigError(
      'SESSION_SECRET',
      'too short: use at least 16 characters (32+ random ones are best)',
    );
  }
  // Passgate's own secret (decoy credential ids) is derived from it, so one variable configures both.
  const passgateSecret = new Uint8Array(
    hkdfSync('sha256', sessionSecret, 'passgate-demo', 'passgate secret', 32),
  );

  const store = oneOf(env, 'PASSGATE_STORE', STORES, 'memory');
  const redisUrl = url(env, 'REDIS_URL', ['redis:', 'rediss:'], 'redis://127.0.0.1:6379');
  const databaseUrl = url(
    env,
    'DATABASE_URL',
    ['postgres:', 'postgresql:'],
    'postgres://postgres@127.0.0.1:5432/test',
  );

  const ratePoints = integer(env, 'PASSGATE_RATE_LIMIT_POINTS', { min: 1 });
  const rateDuration = integer(env, 'PASSGATE_RATE_LIMIT_DURATION_SECONDS', { min: 1 });
  const accountFailurePoints = integer(env, 'PASSGATE_ACCOUNT_FAILURE_POINTS', { min: 1 });

  const signUpRaw = oneOf(env, 'PASSGATE_SIGNUP', ['on', 'off'], 'on');
  const relatedOrigins = relatedOriginList(env, 'PASSGATE_RELATED_ORIGINS');

  return {
    port,
    rpId,
    origin,
    sessionSecret,
    sessionSecretGenerated,
    passgateSecret,
    store,
    redisUrl,
    databaseUrl,
    challengeTtlSeconds: integer(env, 'PASSGATE_CHALLENGE_TTL_SECONDS', { min: 1, max: 86_400 }),
    userVerification: oneOf(env, 'PASSGATE_USER_VERIFICATION', USER_VERIFICATION),
    residentKey: oneOf(env, 'PASSGATE_RESIDENT_KEY', RESIDENT_KEY),
    perIp:
      ratePoints === undefined && rateDuration === undefined
        ? undefined
        : { points: ratePoints ?? 60, durationSeconds: rateDuration ?? 60 },
    accountFailures:
      accountFailurePoints === undefined ? undefined : { points: accountFailurePoints, durationSeconds: 900 },
    signUp: signUpRaw === 'on',
    reauthenticationWindowSeconds: integer(env, 'PASSGATE_REAUTH_SECONDS', { min: 1 }),
    relatedOrigins,
  };
}

/**
 * A comma-separated list of related origins, checked with Passgate's own rules (https, a registrable
 * domain each, at most five labels), so a bad list stops the demo naming the variable.
 */
function relatedOriginList(env, name) {
  const raw = read(env, name);
  if (raw === undefined) return [];
  const origins = raw
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '');
  try {
    assertRelatedOrigins(origins);
  } catch (error) {
    throw new DemoConfigError(name, error.message.replace(/^passgate: rp\.relatedOrigins:? ?/, ''));
  }
  return origins;
}

/** The policy part of `PassgateOptions` for a parsed configuration (only what was set). */
export function passgatePolicyOptions(config) {
  const policy = {};
  if (config.userVerification) policy.userVerification = config.userVerification;
  if (config.residentKey) policy.residentKey = config.residentKey;
  if (config.challengeTtlSeconds !== undefined) policy.challengeTtlSeconds = config.challengeTtlSeconds;
  const options = { policy, signUp: config.signUp };
  if (config.reauthenticationWindowSeconds !== undefined) {
    options.reauthenticationWindowSeconds = config.reauthenticationWindowSeconds;
  }
  return options;
}
