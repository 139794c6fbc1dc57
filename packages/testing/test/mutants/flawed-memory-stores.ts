import {
  type Account,
  type AccountRepository,
  type ChallengeStore,
  type Counted,
  type CountingStore,
  type CredentialRepository,
  credentialExists,
  type DeleteCredentialResult,
  NETWORK_ERROR_CODES,
  type PassgateStores,
  type SignInReads,
  type SignInStore,
  type StoredCredential,
  storeUnavailable,
  tooManyCredentials,
  usernameTaken,
} from '@passgate/core';

/**
 * A copy of `@passgate/core`'s in-memory stores, written as an adapter over a (simulated) backend,
 * with switches that each break exactly one promise of `stores.ts`. With no flaw switched on it is a
 * correct adapter, which the conformance suite must pass; with any one flaw on, the suite must fail.
 *
 * The backend can be `up`, `hung` (accepts calls, never answers: the adapter's own timeout turns
 * that into `store_unavailable`) or `broken` (answers every call with a deployment fault, a missing
 * table, which is not an outage).
 */
export type Flaw =
  // ChallengeStore
  | 'put overwrites a pending id'
  | 'put on a pending id resolves true'
  | 'put treats an expired id as pending'
  | 'consume does not remove'
  | 'consume reads and removes in two steps'
  | 'put checks and writes in two steps'
  | 'TTL ignored'
  | 'TTL doubled'
  | 'TTL halved'
  | 'TTL rounded up to whole seconds'
  | 'TTL rounded down to whole seconds'
  | 'TTL over ten minutes refused'
  | 'expiry by the calling process clock'
  | 'challenge values NFC-normalised'
  | 'challenge values cut at 32 KiB'
  // CredentialRepository
  | 'create overwrites an existing id'
  | 'create rejects a duplicate with a plain Error'
  | 'create checks and writes in two steps'
  | 'create keeps the caller object'
  | 'create indexes a rejected duplicate'
  | 'create resolves a repeat of the stored values'
  | 'cap ignored'
  | 'cap counted and written in two steps'
  | 'cap checked before the id'
  | 'findById returns the stored object'
  | 'ids unique over their first 1024 characters only'
  | 'findById matches by prefix'
  | 'ids compared case-insensitively'
  | 'ties listed in insertion order'
  | 'ties listed in reverse insertion order'
  | 'ties listed by id case-insensitively'
  | 'listed newest first'
  | 'list matches user handles by prefix'
  | 'update ignores expectedCounter'
  | 'update reads and writes in two steps'
  | 'update resolves null when no value changes'
  | 'update resolves the old state'
  | 'update ignores backedUp'
  | 'update keeps the caller Date'
  | 'counter stored as signed 32-bit'
  | 'rename ignores the owner'
  | 'rename checks the owner apart from the write'
  | 'rename ignores null'
  | 'nicknames trimmed'
  | 'delete ignores the owner'
  | 'delete checks the owner apart from the write'
  | 'delete checks last_credential before the owner'
  | 'delete leaves the index entry'
  | 'delete counts and removes in two steps'
  | 'delete never answers last_credential'
  | 'delete ignores allowLast'
  | 'delete resolves deleted twice'
  // AccountRepository
  | 'usernames compared case-insensitively'
  | 'usernames NFC-normalised'
  | 'usernames accent-insensitive'
  | 'display names NFC-normalised'
  | 'display names trimmed'
  | 'user ids compared case-insensitively'
  | 'user handles unique over their first 40 characters only'
  | 'sign-up writes the account before checking the credential'
  | 'sign-up checks and writes the username in two steps'
  | 'sign-up keeps the first credential object'
  | 'sign-up keeps the account object'
  | 'sign-up checks the credential before the username'
  | 'sign-up resolves a repeat of the stored values'
  | 'a taken user handle is username_taken'
  | 'account finders return the stored object'
  | 'sign-up stores the first credential elsewhere'
  | 'account delete leaves its credentials'
  | 'account delete keeps the username taken'
  | 'account delete resolves ids twice'
  // AccountRepository.rename
  | 'account rename checks and writes in two steps'
  | 'account rename keeps the old name taken'
  | 'account rename ignores expectedUsername'
  | 'account rename answers username_taken before null'
  | 'account rename of its own name is username_taken'
  | 'account rename ignores the display name'
  | 'account rename folds case'
  | 'account rename returns the stored object'
  | 'account rename writes for an account deleted meanwhile'
  | 'account rename frees the name it read before a round trip'
  // SignInStore
  | 'sign-in read reads through other stores'
  | 'sign-in read does not consume'
  | 'sign-in read consumes in two steps'
  | 'sign-in read skips the consume for an unknown credential'
  | 'sign-in read ignores expiry'
  | 'sign-in read returns the stored objects'
  | 'sign-in read matches credential ids case-insensitively'
  | 'sign-in read returns no account'
  | 'username read lists newest first'
  | 'username read returns the stored objects'
  | 'username read ignores case'
  // CountingStore
  | 'counted put ignores the limit'
  | 'counted put writes before counting'
  | 'counted consume consumes before counting'
  | 'counted bucket apart from the limiter'
  | 'refused requests not counted'
  | 'counting reads through other stores'
  // Failures
  | 'outage resolves a default'
  | 'outage waits forever'
  | 'outage error passed through unclassified'
  | 'deployment fault reported as store_unavailable'
  | 'deployment fault resolves a default';

export type BackendState = 'up' | 'hung' | 'broken';

export interface FlawedStoresOptions {
  flaw?: Flaw;
  backend?: BackendState;
  /** How long the adapter waits for the backend before `store_unavailable` (ms). */
  timeoutMs?: number;
}

// Captured once, so that a test moving `Date.now` cannot move this store's clock: the store's clock
// is its own, as a database server's would be.
const storeClock = Date.now;
/** Lets other calls run in between, as a network round trip would. */
const roundTrip = () => new Promise<void>((resolve) => setImmediate(resolve));

export function createFlawedStores(options: FlawedStoresOptions = {}): PassgateStores {
  const flaw = options.flaw;
  const has = (f: Flaw) => flaw === f;
  const backend = options.backend ?? 'up';
  const timeoutMs = options.timeoutMs ?? 50;

  /** One call to the backend: how a real adapter talks to its store, errors classified. */
  async function call<T>(op: () => T | Promise<T>, fallback: T): Promise<T> {
    try {
      return await reachBackend(op);
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      const isOutage = NETWORK_ERROR_CODES.has(code);
      if (isOutage && has('outage resolves a default')) return fallback;
      if (isOutage && has('outage error passed through unclassified')) throw error;
      if (isOutage) throw storeUnavailable(error);
      if (code === 'ER_NO_SUCH_TABLE' && has('deployment fault reported as store_unavailable'))
        throw storeUnavailable(error);
      if (code === 'ER_NO_SUCH_TABLE' && has('deployment fault resolves a default')) return fallback;
      throw error;
    }
  }

  async function reachBackend<T>(op: () => T | Promise<T>): Promise<T> {
    if (backend === 'broken') {
      throw Object.assign(new Error("Table 'passgate_credentials' doesn't exist"), {
        code: 'ER_NO_SUCH_TABLE',
      });
    }
    if (backend === 'hung') {
      if (has('outage waits forever')) return new Promise<T>(() => {});
      await new Promise((resolve) => setTimeout(resolve, timeoutMs));
      throw Object.assign(new Error('query timed out'), { code: 'ETIMEDOUT' });
    }
    return op();
  }

  const state = createState();
  const challenges = challengeStore(has, call);
  const stores = {
    challenges: challenges.store,
    credentials: credentialRepository(has, call, state),
    accounts: accountRepository(has, call, state),
  };
  const signIn = signInStore(has, call, state, stores, challenges.pending);
  return { ...stores, signIn, counting: countingStore(has, call, stores, signIn) };
}

type Has = (flaw: Flaw) => boolean;

// ---------------------------------------------------------------------------------------------------

/** The per-IP bucket the counting store and its limiter share: 5 requests per 60 s. */
const POINTS = 5;
const DURATION_SECONDS = 60;
type Buckets = Map<string, { count: number; resetAt: number }>;

/**
 * Counts one request of `key` in a fixed window of `DURATION_SECONDS` from its first request (as
 * rate-limiter-flexible's stores do): every request counted, refused once over `POINTS`.
 */
function countIn(buckets: Buckets, key: string, counted = true): { count: number; msBeforeNext: number } {
  const now = storeClock();
  let bucket = buckets.get(key);
  if (bucket === undefined || bucket.resetAt <= now) {
    bucket = { count: 0, resetAt: now + DURATION_SECONDS * 1000 };
    buckets.set(key, bucket);
  }
  if (counted) bucket.count++;
  return { count: bucket.count, msBeforeNext: bucket.resetAt - now };
}

/**
 * The subset of rate-limiter-flexible's `RateLimiterAbstract` that the core and the suite use, over
 * `buckets`: `consume` resolves or rejects with a `RateLimiterRes`-shaped object, `get` reads.
 */
function bucketLimiter(buckets: Buckets): CountingStore['limiter'] {
  const res = (count: number, msBeforeNext: number) => ({
    consumedPoints: count,
    remainingPoints: Math.max(POINTS - count, 0),
    msBeforeNext,
    isFirstInDuration: count === 1,
  });
  const limiter = {
    points: POINTS,
    duration: DURATION_SECONDS,
    consume: async (key: string | number) => {
      const { count, msBeforeNext } = countIn(buckets, String(key));
      if (count > POINTS) throw res(count, msBeforeNext);
      return res(count, msBeforeNext);
    },
    get: async (key: string | number) => {
      const bucket = buckets.get(String(key));
      if (bucket === undefined || bucket.resetAt <= storeClock()) return null;
      return res(bucket.count, bucket.resetAt - storeClock());
    },
  };
  return limiter as unknown as CountingStore['limiter'];
}

function countingStore(
  has: Has,
  call: Call,
  stores: Omit<PassgateStores, 'signIn' | 'counting'>,
  signIn: SignInStore,
): CountingStore {
  const buckets: Buckets = new Map();
  const limiter = bucketLimiter(buckets);
  // The flaw: a bucket of its own, so the limiter's count and this store's are two counts.
  const own: Buckets = has('counted bucket apart from the limiter') ? new Map() : buckets;
  const count = (key: string): Counted<never> | null => {
    if (has('refused requests not counted')) {
      const { count: before, msBeforeNext } = countIn(own, key, false);
      if (before >= POINTS) return { limited: true, msBeforeNext };
      countIn(own, key);
      return null;
    }
    const { count: after, msBeforeNext } = countIn(own, key);
    return after > POINTS ? { limited: true, msBeforeNext } : null;
  };
  const refusal = { limited: true as const, msBeforeNext: 0 };
  return {
    limiter,
    readsFrom: has('counting reads through other stores')
      ? { ...stores, challenges: challengeStore(has, call).store }
      : stores,
    putCounted: (key, id, value, ttlMs) =>
      call(async (): Promise<Counted<boolean>> => {
        if (has('counted put writes before counting')) {
          const stored = await stores.challenges.put(id, value, ttlMs);
          return count(key) ?? { limited: false, value: stored };
        }
        const limited = count(key);
        // The flaw: counted, but served whatever the count.
        if (limited !== null && !has('counted put ignores the limit')) return limited;
        return { limited: false, value: await stores.challenges.put(id, value, ttlMs) };
      }, refusal),
    consumeForSignInCounted: (key, ceremonyId, credentialId) =>
      call(async (): Promise<Counted<SignInReads>> => {
        if (has('counted consume consumes before counting')) {
          const read = await signIn.consumeForSignIn(ceremonyId, credentialId);
          return count(key) ?? { limited: false, value: read };
        }
        return (
          count(key) ?? { limited: false, value: await signIn.consumeForSignIn(ceremonyId, credentialId) }
        );
      }, refusal),
  };
}
type Call = <T>(op: () => T | Promise<T>, fallback: T) => Promise<T>;

// ---------------------------------------------------------------------------------------------------

type Pending = Map<string, { value: string; expiresAt: number }>;

function challengeStore(has: Has, call: Call): { store: ChallengeStore; pending: Pending } {
  const pending: Pending = new Map();
  const now = () => (has('expiry by the calling process clock') ? Date.now() : storeClock());
  const live = (id: string) => {
    const entry = pending.get(id);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now()) {
      pending.delete(id);
      return undefined;
    }
    return entry;
  };
  const lifetime = (ttlMs: number) => {
    if (has('TTL ignored')) return Number.POSITIVE_INFINITY;
    if (has('TTL doubled')) return 2 * ttlMs;
    if (has('TTL halved')) return ttlMs / 2;
    if (has('TTL rounded up to whole seconds')) return Math.ceil(ttlMs / 1000) * 1000;
    if (has('TTL rounded down to whole seconds')) return Math.floor(ttlMs / 1000) * 1000;
    return ttlMs;
  };
  const stored = (value: string) => {
    if (has('challenge values NFC-normalised')) return value.normalize('NFC');
    if (has('challenge values cut at 32 KiB')) return value.slice(0, 32 * 1024);
    return value;
  };
  const store: ChallengeStore = {
    put: (id, value, ttlMs) =>
      call(async () => {
        if (!Number.isSafeInteger(ttlMs) || ttlMs < 1)
          throw new RangeError('ttlMs must be a positive integer');
        if (has('TTL over ten minutes refused') && ttlMs > 600_000) throw new RangeError('ttlMs too large');
        // The flaw: an entry whose TTL is up still blocks the id.
        const existing = has('put treats an expired id as pending') ? pending.get(id) : live(id);
        if (existing !== undefined && !has('put overwrites a pending id'))
          return has('put on a pending id resolves true');
        if (has('put checks and writes in two steps')) await roundTrip();
        pending.set(id, { value: stored(value), expiresAt: now() + lifetime(ttlMs) });
        return true;
      }, false),
    consume: (id) =>
      call(async () => {
        const entry = live(id);
        if (entry === undefined) return null;
        if (has('consume reads and removes in two steps')) await roundTrip();
        if (!has('consume does not remove')) pending.delete(id);
        return entry.value;
      }, null),
  };
  return { store, pending };
}

// ---------------------------------------------------------------------------------------------------

function signInStore(
  has: Has,
  call: Call,
  state: State,
  stores: Omit<PassgateStores, 'signIn'>,
  pending: Pending,
): SignInStore {
  const take = async (id: string, found: boolean): Promise<string | null> => {
    const entry = pending.get(id);
    if (entry === undefined) return null;
    if (entry.expiresAt <= storeClock() && !has('sign-in read ignores expiry')) {
      pending.delete(id);
      return null;
    }
    if (has('sign-in read consumes in two steps')) await roundTrip();
    const keep =
      has('sign-in read does not consume') ||
      (!found && has('sign-in read skips the consume for an unknown credential'));
    if (!keep) pending.delete(id);
    return entry.value;
  };
  const find = (credentialId: string) => {
    if (has('sign-in read matches credential ids case-insensitively')) {
      for (const c of state.byId.values()) if (c.id.toLowerCase() === credentialId.toLowerCase()) return c;
      return undefined;
    }
    return state.byId.get(credentialId);
  };
  const copies = !has('sign-in read returns the stored objects');
  return {
    // The flaw: a challenge store of its own, not the one in `stores` (as a factory that built its
    // stores twice would have).
    readsFrom: has('sign-in read reads through other stores')
      ? { ...stores, challenges: challengeStore(has, call).store }
      : stores,
    consumeForSignIn: (ceremonyId, credentialId) =>
      call(
        async () => {
          const stored = find(credentialId);
          const ceremony = await take(ceremonyId, stored !== undefined);
          const owner = stored === undefined ? undefined : state.accounts.get(stored.userHandle);
          return {
            ceremony,
            credential: stored === undefined ? null : copies ? copyCredential(stored) : stored,
            account:
              owner === undefined || has('sign-in read returns no account')
                ? null
                : copies
                  ? copyAccount(owner)
                  : owner,
          };
        },
        { ceremony: null, credential: null, account: null },
      ),
    findForSignIn: (username, standInHandle) =>
      call(
        async () => {
          const key = has('username read ignores case') ? username.toLowerCase() : username;
          let handle: string | undefined;
          for (const [name, h] of state.handleByUsername)
            if ((has('username read ignores case') ? name.toLowerCase() : name) === key) handle = h;
          const owner = handle === undefined ? undefined : state.accounts.get(handle);
          const ids = [...(state.idsByUserHandle.get(owner?.userHandle ?? standInHandle) ?? [])];
          const listed = ids
            .map((id) => state.byId.get(id))
            .filter((c): c is StoredCredential => c !== undefined)
            .sort((a, b) => {
              const t =
                a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
              return has('username read lists newest first') ? -t : t;
            });
          const fresh = !has('username read returns the stored objects');
          return {
            account: owner === undefined ? null : fresh ? copyAccount(owner) : owner,
            credentials: owner === undefined ? [] : fresh ? listed.map(copyCredential) : listed,
          };
        },
        { account: null, credentials: [] },
      ),
  };
}

// ---------------------------------------------------------------------------------------------------

interface State {
  byId: Map<string, StoredCredential>;
  idsByUserHandle: Map<string, Set<string>>;
  /** Where 'sign-up stores the first credential elsewhere' puts it. */
  elsewhere: Map<string, StoredCredential>;
  accounts: Map<string, Account>;
  handleByUserId: Map<string, string>;
  handleByUsername: Map<string, string>;
}

function createState(): State {
  return {
    byId: new Map(),
    idsByUserHandle: new Map(),
    elsewhere: new Map(),
    accounts: new Map(),
    handleByUserId: new Map(),
    handleByUsername: new Map(),
  };
}

function copyCredential(c: StoredCredential): StoredCredential {
  return {
    id: c.id,
    userHandle: c.userHandle,
    publicKey: new Uint8Array(c.publicKey),
    algorithm: c.algorithm,
    counter: c.counter,
    transports: [...c.transports],
    backupEligible: c.backupEligible,
    backedUp: c.backedUp,
    aaguid: c.aaguid,
    attestationFormat: c.attestationFormat,
    nickname: c.nickname,
    createdAt: new Date(c.createdAt.getTime()),
    lastUsedAt: c.lastUsedAt === null ? null : new Date(c.lastUsedAt.getTime()),
  };
}

function copyAccount(a: Account): Account {
  return {
    userId: a.userId,
    userHandle: a.userHandle,
    username: a.username,
    displayName: a.displayName,
    createdAt: new Date(a.createdAt.getTime()),
  };
}

function credentialKey(has: Has, id: string): string {
  if (has('ids unique over their first 1024 characters only')) return id.slice(0, 1024);
  if (has('ids compared case-insensitively')) return id.toLowerCase();
  return id;
}

function insertCredential(
  has: Has,
  state: State,
  credential: StoredCredential,
  keepReference: boolean,
): void {
  const stored = keepReference ? credential : copyCredential(credential);
  if (has('counter stored as signed 32-bit')) stored.counter |= 0;
  state.byId.set(credentialKey(has, stored.id), stored);
  const ids = state.idsByUserHandle.get(stored.userHandle) ?? new Set<string>();
  ids.add(stored.id);
  state.idsByUserHandle.set(stored.userHandle, ids);
}

function credentialRepository(has: Has, call: Call, state: State): CredentialRepository {
  const get = (id: string): StoredCredential | undefined => {
    if (has('findById matches by prefix')) {
      for (const c of state.byId.values()) if (c.id.startsWith(id)) return c;
      return undefined;
    }
    return state.byId.get(credentialKey(has, id));
  };
  const out = (c: StoredCredential) => (has('findById returns the stored object') ? c : copyCredential(c));
  const owned = (userHandle: string, id: string) => {
    const c = get(id);
    return c !== undefined && (c.userHandle === userHandle || has('rename ignores the owner'))
      ? c
      : undefined;
  };
  const removeCredential = (userHandle: string, id: string) => {
    state.byId.delete(credentialKey(has, id));
    if (has('delete leaves the index entry')) return;
    const ids = state.idsByUserHandle.get(userHandle);
    ids?.delete(id);
    if (ids?.size === 0) state.idsByUserHandle.delete(userHandle);
  };
  const order = (a: StoredCredential, b: StoredCredential, insertion: string[]) => {
    const byTime = a.createdAt.getTime() - b.createdAt.getTime();
    if (byTime !== 0) return has('listed newest first') ? -byTime : byTime;
    if (has('ties listed in insertion order')) return insertion.indexOf(a.id) - insertion.indexOf(b.id);
    if (has('ties listed in reverse insertion order'))
      return insertion.indexOf(b.id) - insertion.indexOf(a.id);
    const [x, y] = has('ties listed by id case-insensitively')
      ? [a.id.toLowerCase(), b.id.toLowerCase()]
      : [a.id, b.id];
    return x < y ? -1 : x > y ? 1 : 0;
  };

  return {
    create: (credential, options = {}) =>
      call(async () => {
        const exists = state.byId.has(credentialKey(has, credential.id));
        const held = () => state.idsByUserHandle.get(credential.userHandle)?.size ?? 0;
        const cap = has('cap ignored') ? undefined : options.maxPerAccount;
        const full = () => cap !== undefined && held() >= cap;
        if (has('cap checked before the id') && full()) throw tooManyCredentials();
        if (exists && has('create resolves a repeat of the stored values')) {
          // Taken for a re-sent command when the stored owner and createdAt match: not a proof.
          const stored = state.byId.get(credentialKey(has, credential.id));
          if (
            stored?.userHandle === credential.userHandle &&
            stored.createdAt.getTime() === credential.createdAt.getTime()
          )
            return;
        }
        if (exists && !has('create overwrites an existing id')) {
          if (has('create indexes a rejected duplicate')) {
            const ids = state.idsByUserHandle.get(credential.userHandle) ?? new Set<string>();
            ids.add(credential.id);
            state.idsByUserHandle.set(credential.userHandle, ids);
          }
          if (has('create rejects a duplicate with a plain Error')) throw new Error('duplicate key');
          throw credentialExists();
        }
        if (full()) throw tooManyCredentials();
        if (has('create checks and writes in two steps') || has('cap counted and written in two steps'))
          await roundTrip();
        insertCredential(has, state, credential, has('create keeps the caller object'));
      }, undefined),

    findById: (id) =>
      call(() => {
        const c = get(id);
        return c === undefined ? null : out(c);
      }, null),

    listByUserHandle: (userHandle) =>
      call(() => {
        const entries = has('list matches user handles by prefix')
          ? [...state.idsByUserHandle]
              .filter(([h]) => h.startsWith(userHandle))
              .flatMap(([, ids]) => [...ids])
          : [...(state.idsByUserHandle.get(userHandle) ?? [])];
        const insertion = [...entries];
        return entries
          .map((id) => state.byId.get(credentialKey(has, id)))
          .filter((c): c is StoredCredential => c !== undefined)
          .sort((a, b) => order(a, b, insertion))
          .map(out);
      }, []),

    updateAfterSignIn: (update) =>
      call(async () => {
        const c = get(update.id);
        if (c === undefined) return null;
        if (c.counter !== update.expectedCounter && !has('update ignores expectedCounter')) return null;
        if (has('update reads and writes in two steps')) await roundTrip();
        const before = copyCredential(c);
        const changes =
          c.counter !== update.counter ||
          c.backedUp !== update.backedUp ||
          c.lastUsedAt?.getTime() !== update.lastUsedAt.getTime();
        if (has('update resolves null when no value changes') && !changes) return null;
        c.counter = has('counter stored as signed 32-bit') ? update.counter | 0 : update.counter;
        if (!has('update ignores backedUp')) c.backedUp = update.backedUp;
        c.lastUsedAt = has('update keeps the caller Date')
          ? update.lastUsedAt
          : new Date(update.lastUsedAt.getTime());
        return has('update resolves the old state') ? before : out(c);
      }, null),

    rename: (userHandle, id, nickname) =>
      call(async () => {
        let c = owned(userHandle, id);
        if (c === undefined) return null;
        if (has('rename checks the owner apart from the write')) {
          await roundTrip();
          await roundTrip();
          c = get(id);
          if (c === undefined) return null;
        }
        if (nickname !== null || !has('rename ignores null'))
          c.nickname = has('nicknames trimmed') && nickname !== null ? nickname.trim() : nickname;
        return out(c);
      }, null),

    delete: (userHandle, id, { allowLast }) =>
      call(async (): Promise<DeleteCredentialResult> => {
        const mine = state.idsByUserHandle.get(userHandle);
        if (has('delete checks last_credential before the owner') && mine?.size === 1 && !allowLast)
          return 'last_credential';
        const c = get(id);
        const isOwner = c !== undefined && (c.userHandle === userHandle || has('delete ignores the owner'));
        if (!isOwner)
          return has('delete resolves deleted twice') && c === undefined ? 'deleted' : 'not_found';
        const count = state.idsByUserHandle.get(c.userHandle)?.size ?? 0;
        const keepLast = has('delete ignores allowLast') || !allowLast;
        if (count <= 1 && keepLast && !has('delete never answers last_credential')) return 'last_credential';
        if (
          has('delete counts and removes in two steps') ||
          has('delete checks the owner apart from the write')
        ) {
          await roundTrip();
          await roundTrip();
        }
        removeCredential(c.userHandle, id);
        return 'deleted';
      }, 'not_found'),
  };
}

// ---------------------------------------------------------------------------------------------------

function accountRepository(has: Has, call: Call, state: State): AccountRepository {
  const usernameKey = (u: string) => {
    if (has('usernames compared case-insensitively')) return u.toLowerCase();
    if (has('usernames NFC-normalised')) return u.normalize('NFC');
    if (has('usernames accent-insensitive')) return u.normalize('NFD').replace(/\p{M}/gu, '');
    return u;
  };
  const userIdKey = (u: string) => (has('user ids compared case-insensitively') ? u.toLowerCase() : u);
  const handleKey = (h: string) =>
    has('user handles unique over their first 40 characters only') ? h.slice(0, 40) : h;
  const lookUp = (handle: string | undefined) => {
    const a = handle === undefined ? undefined : state.accounts.get(handleKey(handle));
    if (a === undefined) return null;
    return has('account finders return the stored object') ? a : copyAccount(a);
  };

  return {
    findByUserHandle: (userHandle) => call(() => lookUp(userHandle), null),
    findByUserId: (userId) => call(() => lookUp(state.handleByUserId.get(userIdKey(userId))), null),
    findByUsername: (username) => call(() => lookUp(state.handleByUsername.get(usernameKey(username))), null),

    create: (account, firstCredential) =>
      call(async () => {
        const usernameTakenNow = () => state.handleByUsername.has(usernameKey(account.username));
        const credentialTaken = state.byId.has(credentialKey(has, firstCredential.id));
        if (has('sign-up checks the credential before the username') && credentialTaken)
          throw credentialExists();
        if (
          has('sign-up resolves a repeat of the stored values') &&
          state.handleByUsername.get(usernameKey(account.username)) === account.userHandle &&
          state.byId.get(credentialKey(has, firstCredential.id))?.userHandle === account.userHandle
        )
          return;
        if (usernameTakenNow()) throw usernameTaken();
        if (has('sign-up writes the account before checking the credential')) writeAccount();
        if (credentialTaken) throw credentialExists();
        if (state.accounts.has(handleKey(account.userHandle))) {
          if (has('a taken user handle is username_taken')) throw usernameTaken();
          throw new Error('An account with this user handle exists');
        }
        if (state.handleByUserId.has(userIdKey(account.userId)))
          throw new Error('An account with this user id exists');
        if (has('sign-up checks and writes the username in two steps')) {
          await roundTrip();
        }
        writeAccount();
        if (has('sign-up stores the first credential elsewhere'))
          state.elsewhere.set(firstCredential.id, firstCredential);
        else insertCredential(has, state, firstCredential, has('sign-up keeps the first credential object'));

        function writeAccount() {
          const stored = has('sign-up keeps the account object') ? account : copyAccount(account);
          if (has('display names NFC-normalised')) stored.displayName = stored.displayName.normalize('NFC');
          if (has('display names trimmed')) stored.displayName = stored.displayName.trim();
          if (has('usernames NFC-normalised')) stored.username = stored.username.normalize('NFC');
          state.accounts.set(handleKey(stored.userHandle), stored);
          state.handleByUserId.set(userIdKey(stored.userId), stored.userHandle);
          state.handleByUsername.set(usernameKey(stored.username), stored.userHandle);
        }
      }, undefined),

    delete: (userHandle) =>
      call(async () => {
        const account = state.accounts.get(handleKey(userHandle));
        if (account === undefined) return null;
        if (has('account delete resolves ids twice')) await roundTrip();
        const ids = [...(state.idsByUserHandle.get(account.userHandle) ?? [])];
        if (!has('account delete leaves its credentials')) {
          for (const id of ids) state.byId.delete(credentialKey(has, id));
          state.idsByUserHandle.delete(account.userHandle);
        }
        state.accounts.delete(handleKey(account.userHandle));
        state.handleByUserId.delete(userIdKey(account.userId));
        if (!has('account delete keeps the username taken'))
          state.handleByUsername.delete(usernameKey(account.username));
        return ids;
      }, null),

    rename: (userHandle, { username, displayName, expectedUsername }) =>
      call(async () => {
        const key = (u: string) => (has('account rename folds case') ? u.toLowerCase() : usernameKey(u));
        let account = state.accounts.get(handleKey(userHandle));
        const unknown = () => account === undefined;
        const takenByOther = () => {
          const holder = state.handleByUsername.get(key(username));
          return (
            holder !== undefined &&
            (holder !== userHandle || has('account rename of its own name is username_taken'))
          );
        };
        if (has('account rename answers username_taken before null') && takenByOther()) throw usernameTaken();
        if (account === undefined) return null;
        const read = account.username;
        if (
          expectedUsername !== undefined &&
          !has('account rename ignores expectedUsername') &&
          read !== expectedUsername &&
          read !== username
        )
          return null;
        if (has('account rename checks and writes in two steps')) {
          if (takenByOther()) throw usernameTaken();
          await roundTrip();
        }
        if (
          has('account rename writes for an account deleted meanwhile') ||
          has('account rename frees the name it read before a round trip')
        ) {
          await roundTrip();
          await roundTrip();
        }
        if (!has('account rename writes for an account deleted meanwhile')) {
          account = state.accounts.get(handleKey(userHandle));
          if (unknown()) return null;
        }
        const stored = account as Account;
        if (!has('account rename checks and writes in two steps') && takenByOther()) throw usernameTaken();
        const previous = has('account rename frees the name it read before a round trip')
          ? read
          : stored.username;
        if (!has('account rename keeps the old name taken') && previous !== username)
          state.handleByUsername.delete(key(previous));
        state.handleByUsername.set(key(username), stored.userHandle);
        stored.username = username;
        if (displayName !== undefined && !has('account rename ignores the display name'))
          stored.displayName = displayName;
        return has('account rename returns the stored object') ? stored : copyAccount(stored);
      }, null),
  };
}
