import {
  createMemoryStores,
  createPassgate,
  type IdentifiedUser,
  type Passgate,
  type PassgateOptions,
  type PassgateStores,
  type PasskeySession,
  silentLogger,
  storeUnavailable,
  type UserView,
} from '@passgate/core';
import { afterAll, beforeAll } from 'vitest';
import { type IdentifyRequest, SimulatedApplication } from './application.js';
import { ContractClient, ORIGIN, PREFIX, RP_ID } from './client.js';

/** What the suite hands to the app factory. */
export interface ContractAppOptions {
  /**
   * The Passgate instance to serve, already configured by the suite for the current test group
   * (memory stores, rate limits, sign-up on or off, the reauthentication window, a controlled clock).
   * Mount the contract at the default prefix `/passkeys` (or return where it is served as
   * `ContractApp.prefix`), with the default ceremony cookie name,
   * and keep sessions in express-session (MemoryStore).
   */
  passgate: Passgate;
  /**
   * The application's own sign-in, for contract 1.1's "signed in includes the application's user":
   * pass both to the integration (`createPasskeyRouter({ passgate, identify, onPasskeySignIn })`,
   * `PasskeysModule.forRoot({ passgate, identify, onPasskeySignIn })`).
   */
  identify: (req: IdentifyRequest) => IdentifiedUser | null;
  onPasskeySignIn: (req: unknown, res: unknown, signIn: { user: UserView; session: PasskeySession }) => void;
}

/** A running app: a real HTTP server on 127.0.0.1 with an ephemeral port. */
export interface ContractApp {
  /** Base URL, e.g. `http://127.0.0.1:43123`. */
  url: string;
  /**
   * Where the app serves the contract, from the site root, when it is not the default `/passkeys`
   * (e.g. `/api/passkeys` behind a framework's global prefix): the suite's requests go there, and
   * the ceremony cookie's `Path` must be that.
   */
  prefix?: string;
  close(): Promise<void>;
}

export type StartContractApp = (options: ContractAppOptions) => Promise<ContractApp>;

/** A clock the suite moves by hand (reauthentication window, challenge expiry). */
export interface TestClock {
  now(): number;
  advance(ms: number): void;
}

export interface GroupConfig {
  signUp?: boolean;
  rateLimits?: PassgateOptions['rateLimits'];
  reauthenticationWindowSeconds?: number;
  challengeTtlSeconds?: number;
  relatedOrigins?: string[];
}

export interface Harness {
  readonly url: string;
  /** Where the app serves the contract (see {@link ContractApp.prefix}). */
  readonly prefix: string;
  /** While on, every store call (challenges, credentials, accounts) fails as if the store were down. */
  setStoreOutage(on: boolean): void;
  /**
   * While on, every store call fails with an error that is not an outage (a missing table, a wrong
   * key type): contract 1.1 answers those `500 internal_error`, never `503`.
   */
  setStoreError(on: boolean): void;
  readonly passgate: Passgate;
  readonly clock: TestClock;
  /** The application's own users and sign-ins (what `identify` reads). */
  readonly application: SimulatedApplication;
  client(): ContractClient;
}

/**
 * The fixed origin and RP ID are unrelated to the listening URL on purpose: the suite sends
 * `Origin: https://app.example.test` (as a browser on that page would) and the software
 * authenticator writes the same origin into client data, so the app's real address never matters.
 */
export function buildPassgate(config: GroupConfig, clock: TestClock, outage: StoreFaults): Passgate {
  return createPassgate({
    rp: {
      name: 'Passgate contract suite',
      id: RP_ID,
      origins: [ORIGIN],
      ...(config.relatedOrigins ? { relatedOrigins: config.relatedOrigins } : {}),
    },
    stores: withOutage(createMemoryStores({ now: () => clock.now() }), outage),
    secret: 'contract-suite-secret-0123456789abcdef',
    // The suite provokes store outages and failures on purpose.
    logger: silentLogger,
    signUp: config.signUp ?? true,
    rateLimits: config.rateLimits ?? { perIp: false, accountFailures: false },
    reauthenticationWindowSeconds: config.reauthenticationWindowSeconds ?? 300,
    policy: { challengeTtlSeconds: config.challengeTtlSeconds ?? 300 },
    now: () => clock.now(),
  });
}

/** Faults the suite switches on: `on`, an outage; `error`, a store error that is not one. */
interface StoreFaults {
  on: boolean;
  error?: boolean;
}

/**
 * Memory stores whose every method rejects while a fault is on: like an unreachable database
 * (`outage.on`), or like a deployment fault such as a missing table (`outage.error`).
 */
function withOutage(stores: PassgateStores, outage: StoreFaults): PassgateStores {
  const wrap = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(object, key, receiver) {
        const value = Reflect.get(object, key, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          // How an adapter reports an outage (contract 1.1: only outages are 503).
          if (outage.on) return Promise.reject(storeUnavailable(new Error('simulated store outage')));
          if (outage.error) {
            return Promise.reject(new Error('relation "passgate_credentials" does not exist (simulated)'));
          }
          return value.apply(object, args);
        };
      },
    });
  const wrapped = {
    challenges: wrap(stores.challenges),
    credentials: wrap(stores.credentials),
    accounts: wrap(stores.accounts),
  };
  // The one-round-trip sign-in reads too (memory stores have them), reading through the wrapped stores,
  // so the contract runs on the path the demos take.
  if (!stores.signIn) return wrapped;
  const signIn = wrap(stores.signIn);
  return {
    ...wrapped,
    signIn: {
      readsFrom: wrapped,
      consumeForSignIn: (ceremonyId, credentialId) => signIn.consumeForSignIn(ceremonyId, credentialId),
      findForSignIn: (username, standInHandle) => signIn.findForSignIn(username, standInHandle),
    },
  };
}

/** Starts one app per test group (in `beforeAll`) and closes it afterwards. */
export function useApp(start: StartContractApp, config: GroupConfig = {}): Harness {
  let current: { app: ContractApp; passgate: Passgate } | undefined;
  let offset = 0;
  const outage: StoreFaults = { on: false };
  const clock: TestClock = {
    now: () => Date.now() + offset,
    advance: (ms) => {
      offset += ms;
    },
  };
  const application = new SimulatedApplication(() => clock.now());
  beforeAll(async () => {
    const passgate = buildPassgate(config, clock, outage);
    current = {
      app: await start({
        passgate,
        identify: application.identify,
        onPasskeySignIn: application.onPasskeySignIn,
      }),
      passgate,
    };
  });
  afterAll(async () => {
    await current?.app.close();
  });
  const need = () => {
    if (!current) throw new Error('The app under test did not start.');
    return current;
  };
  return {
    get url() {
      return need().app.url;
    },
    get prefix() {
      return need().app.prefix ?? PREFIX;
    },
    get passgate() {
      return need().passgate;
    },
    clock,
    application,
    setStoreOutage: (on) => {
      outage.on = on;
    },
    setStoreError: (on) => {
      outage.error = on;
    },
    client: () => new ContractClient(need().app.url, { prefix: need().app.prefix ?? PREFIX }),
  };
}
