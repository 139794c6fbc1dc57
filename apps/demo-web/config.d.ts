export type DemoStore = 'memory' | 'redis' | 'postgres';
export type UserVerification = 'required' | 'preferred' | 'discouraged';
export type ResidentKey = 'required' | 'preferred' | 'discouraged';

export interface RateLimitBucket {
  points: number;
  durationSeconds: number;
}

/** The demo apps' environment, parsed. */
export interface DemoConfig {
  /** `PORT`, default 3000; 0 picks a free port. */
  port: number;
  /** `RP_ID`, default `localhost`. */
  rpId: string;
  /** `ORIGIN`, default `http://localhost:$PORT`; undefined with `PORT=0` until the server listens (see `originFor`). */
  origin: string | undefined;
  /** `SESSION_SECRET` (random per process when unset). */
  sessionSecret: string;
  sessionSecretGenerated: boolean;
  /** 32 bytes derived from the session secret (HKDF-SHA256), Passgate's `secret`. */
  passgateSecret: Uint8Array;
  /** `PASSGATE_STORE`, default `memory`. */
  store: DemoStore;
  /** `REDIS_URL`, default `redis://127.0.0.1:6379`. */
  redisUrl: string;
  /** `DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/test`. */
  databaseUrl: string;
  /** `PASSGATE_CHALLENGE_TTL_SECONDS`. */
  challengeTtlSeconds: number | undefined;
  /** `PASSGATE_USER_VERIFICATION`. */
  userVerification: UserVerification | undefined;
  /** `PASSGATE_RESIDENT_KEY` (an addition to the contract's list, for security keys without resident keys). */
  residentKey: ResidentKey | undefined;
  /** `PASSGATE_RATE_LIMIT_POINTS` / `PASSGATE_RATE_LIMIT_DURATION_SECONDS` (the per-IP bucket). */
  perIp: RateLimitBucket | undefined;
  /** `PASSGATE_ACCOUNT_FAILURE_POINTS` per 900 s. */
  accountFailures: RateLimitBucket | undefined;
  /** `PASSGATE_SIGNUP`, `on` (default) or `off`. */
  signUp: boolean;
  /** `PASSGATE_REAUTH_SECONDS`. */
  reauthenticationWindowSeconds: number | undefined;
  /** `PASSGATE_RELATED_ORIGINS`, comma-separated; `[]` when unset. */
  relatedOrigins: string[];
}

export declare class DemoConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, message: string);
}

/** Parses the demo environment; throws `DemoConfigError` naming the variable on a bad value. */
export declare function loadDemoConfig(
  env?: Record<string, string | undefined>,
  options?: { warn?: (message: string) => void },
): DemoConfig;

/** `config.origin`, or `http://localhost:$port` once the listening port is known. */
export declare function originFor(config: DemoConfig, port: number): string;

/** `policy`, `signUp` and `reauthenticationWindowSeconds` for `createPassgate`, from the configuration. */
export declare function passgatePolicyOptions(config: DemoConfig): {
  policy: {
    userVerification?: UserVerification;
    residentKey?: ResidentKey;
    challengeTtlSeconds?: number;
  };
  signUp: boolean;
  reauthenticationWindowSeconds?: number;
};
