import { credentialExists, tooManyCredentials, usernameTaken } from './errors.js';
import type {
  AccountRepository,
  ChallengeStore,
  CredentialRepository,
  CredentialSignInUpdate,
  DeleteCredentialResult,
  PassgateStores,
  SignInStore,
} from './stores.js';
import type { Account, StoredCredential } from './types.js';

/**
 * In-memory implementations of the three storage interfaces, for tests, the demo and single-process
 * experiments. State lives in this process only and is lost on exit: use the Redis or PostgreSQL
 * adapter for anything that runs more than one process or must survive a restart.
 *
 * Every method is synchronous inside (so each one is trivially atomic on Node's single thread) and
 * returns a Promise, like a real adapter. Values are copied on the way in and on the way out, so
 * neither the caller's objects nor the returned ones alias stored state.
 */
export interface MemoryStoresOptions {
  /**
   * Most pending ceremonies kept at once. Default 10_000.
   *
   * When the cap is reached, expired challenges are swept first; if the store is still full, the
   * oldest pending challenge is evicted. Evicting (rather than refusing new ones) keeps the service
   * answering new users while someone floods the ceremony endpoints: the flood can only cost the
   * oldest, probably abandoned, ceremonies a retry. The cap bounds memory; rate limits are the real
   * defence against the flood itself.
   */
  maxPendingChallenges?: number;
  /** The store's clock, in milliseconds since the epoch, used for challenge expiry. Default `Date.now`. */
  now?: () => number;
}

export function createMemoryStores(options: MemoryStoresOptions = {}): PassgateStores {
  const maxPending = options.maxPendingChallenges ?? 10_000;
  if (!Number.isSafeInteger(maxPending) || maxPending < 1) {
    throw new RangeError('maxPendingChallenges must be a positive integer');
  }
  const now = options.now ?? Date.now;
  const credentials = createCredentialState();
  const challenges = createChallengeStore(maxPending, now);
  const accounts = createAccountRepository(credentials);
  const stores = {
    challenges: challenges.store,
    credentials: createCredentialRepository(credentials),
    accounts: accounts.repository,
  };
  const signIn: SignInStore = {
    readsFrom: stores,
    // Synchronous inside like every method here, so each is one atomic step.
    async consumeForSignIn(ceremonyId, credentialId) {
      const ceremony = challenges.consume(ceremonyId);
      const stored = credentials.byId.get(credentialId);
      const account = stored === undefined ? null : accounts.lookUp(stored.userHandle);
      return { ceremony, credential: stored === undefined ? null : copyCredential(stored), account };
    },
    async findForSignIn(username, standInHandle) {
      const account = accounts.findByUsername(username);
      const listed = listCredentials(credentials, account?.userHandle ?? standInHandle);
      return { account, credentials: account === null ? [] : listed };
    },
  };
  return { ...stores, signIn };
}

// ---------------------------------------------------------------------------------------------------
// Challenges

interface PendingChallenge {
  value: string;
  expiresAt: number;
}

function createChallengeStore(
  maxPending: number,
  now: () => number,
): { store: ChallengeStore; consume(id: string): string | null } {
  // A Map iterates in insertion order, and an id is only ever (re)inserted by `put`, so the first
  // entry is always the oldest pending challenge. No timers: expired entries are dropped when touched
  // and by `sweep`, so the store never keeps the process alive.
  const pending = new Map<string, PendingChallenge>();
  // A lower bound on the earliest `expiresAt` in `pending`, so a full store only scans when something
  // may actually have expired (otherwise every `put` under a flood would scan the whole map).
  let earliestExpiry = Number.POSITIVE_INFINITY;

  const live = (id: string, at: number): PendingChallenge | undefined => {
    const entry = pending.get(id);
    if (entry !== undefined && entry.expiresAt <= at) {
      pending.delete(id);
      return undefined;
    }
    return entry;
  };

  const sweep = (at: number): void => {
    if (at < earliestExpiry) return;
    earliestExpiry = Number.POSITIVE_INFINITY;
    for (const [id, entry] of pending) {
      if (entry.expiresAt <= at) pending.delete(id);
      else earliestExpiry = Math.min(earliestExpiry, entry.expiresAt);
    }
  };

  const consume = (id: string): string | null => {
    const entry = live(id, now());
    if (entry === undefined) return null;
    pending.delete(id);
    return entry.value;
  };

  const store: ChallengeStore = {
    async put(id, value, ttlMs) {
      if (!Number.isSafeInteger(ttlMs) || ttlMs < 1)
        throw new RangeError('passgate: ttlMs must be a positive integer');
      const at = now();
      if (live(id, at) !== undefined) return false;
      if (pending.size >= maxPending) sweep(at);
      if (pending.size >= maxPending) {
        const oldest = pending.keys().next();
        if (!oldest.done) pending.delete(oldest.value);
      }
      const expiresAt = at + ttlMs;
      pending.set(id, { value, expiresAt });
      earliestExpiry = Math.min(earliestExpiry, expiresAt);
      return true;
    },

    async consume(id) {
      return consume(id);
    },
  };
  return { store, consume };
}

// ---------------------------------------------------------------------------------------------------
// Credentials and accounts (one shared state, so sign-up can write both all or nothing)

interface CredentialState {
  byId: Map<string, StoredCredential>;
  /** userHandle → ids of that account's credentials. Holds no empty sets. */
  idsByUserHandle: Map<string, Set<string>>;
}

function createCredentialState(): CredentialState {
  return { byId: new Map(), idsByUserHandle: new Map() };
}

function insertCredential(state: CredentialState, credential: StoredCredential): void {
  const stored = copyCredential(credential);
  state.byId.set(stored.id, stored);
  const ids = state.idsByUserHandle.get(stored.userHandle);
  if (ids === undefined) state.idsByUserHandle.set(stored.userHandle, new Set([stored.id]));
  else ids.add(stored.id);
}

/** The account's credentials, oldest first, as copies. */
function listCredentials(state: CredentialState, userHandle: string): StoredCredential[] {
  const ids = state.idsByUserHandle.get(userHandle) ?? [];
  return [...ids]
    .map((id) => state.byId.get(id))
    .filter((credential) => credential !== undefined)
    .sort(oldestFirst)
    .map(copyCredential);
}

/** The credential if `userHandle` owns it. */
function owned(state: CredentialState, userHandle: string, id: string): StoredCredential | undefined {
  const credential = state.byId.get(id);
  return credential?.userHandle === userHandle ? credential : undefined;
}

function createCredentialRepository(state: CredentialState): CredentialRepository {
  return {
    async create(credential, options = {}) {
      if (state.byId.has(credential.id)) throw credentialExists();
      const held = state.idsByUserHandle.get(credential.userHandle)?.size ?? 0;
      if (options.maxPerAccount !== undefined && held >= options.maxPerAccount) throw tooManyCredentials();
      insertCredential(state, credential);
    },

    async findById(id) {
      const credential = state.byId.get(id);
      return credential === undefined ? null : copyCredential(credential);
    },

    async listByUserHandle(userHandle) {
      return listCredentials(state, userHandle);
    },

    async updateAfterSignIn(update: CredentialSignInUpdate) {
      const credential = state.byId.get(update.id);
      if (credential === undefined || credential.counter !== update.expectedCounter) return null;
      credential.counter = update.counter;
      credential.backedUp = update.backedUp;
      credential.lastUsedAt = new Date(update.lastUsedAt.getTime());
      return copyCredential(credential);
    },

    async rename(userHandle, id, nickname) {
      const credential = owned(state, userHandle, id);
      if (credential === undefined) return null;
      credential.nickname = nickname;
      return copyCredential(credential);
    },

    async delete(userHandle, id, { allowLast }): Promise<DeleteCredentialResult> {
      const ids = state.idsByUserHandle.get(userHandle);
      if (ids === undefined || owned(state, userHandle, id) === undefined) return 'not_found';
      if (ids.size === 1 && !allowLast) return 'last_credential';
      state.byId.delete(id);
      ids.delete(id);
      if (ids.size === 0) state.idsByUserHandle.delete(userHandle);
      return 'deleted';
    },
  };
}

function createAccountRepository(credentials: CredentialState): {
  repository: AccountRepository;
  lookUp(userHandle: string): Account | null;
  findByUsername(username: string): Account | null;
} {
  const byUserHandle = new Map<string, Account>();
  // Secondary indexes point at the primary key, so there is one stored copy of each account.
  const userHandleByUserId = new Map<string, string>();
  const userHandleByUsername = new Map<string, string>();

  const lookUp = (userHandle: string | undefined): Account | null => {
    const account = userHandle === undefined ? undefined : byUserHandle.get(userHandle);
    return account === undefined ? null : copyAccount(account);
  };

  const repository: AccountRepository = {
    async findByUserHandle(userHandle) {
      return lookUp(userHandle);
    },

    async findByUserId(userId) {
      return lookUp(userHandleByUserId.get(userId));
    },

    async findByUsername(username) {
      return lookUp(userHandleByUsername.get(username));
    },

    async create(account, firstCredential) {
      // Every check comes before the first write: a rejected sign-up leaves nothing behind.
      if (userHandleByUsername.has(account.username)) throw usernameTaken();
      if (credentials.byId.has(firstCredential.id)) throw credentialExists();
      if (byUserHandle.has(account.userHandle)) throw new Error('An account with this user handle exists');
      if (userHandleByUserId.has(account.userId)) throw new Error('An account with this user id exists');
      if (firstCredential.userHandle !== account.userHandle) {
        throw new Error("The first credential's userHandle is not the account's");
      }
      const stored = copyAccount(account);
      byUserHandle.set(stored.userHandle, stored);
      userHandleByUserId.set(stored.userId, stored.userHandle);
      userHandleByUsername.set(stored.username, stored.userHandle);
      insertCredential(credentials, firstCredential);
    },

    async delete(userHandle) {
      const account = byUserHandle.get(userHandle);
      if (account === undefined) return null;
      const ids = [...(credentials.idsByUserHandle.get(userHandle) ?? [])];
      for (const id of ids) credentials.byId.delete(id);
      credentials.idsByUserHandle.delete(userHandle);
      byUserHandle.delete(userHandle);
      userHandleByUserId.delete(account.userId);
      userHandleByUsername.delete(account.username);
      return ids;
    },

    async rename(userHandle, { username, displayName, expectedUsername }) {
      const account = byUserHandle.get(userHandle);
      if (account === undefined) return null;
      const current = account.username;
      if (expectedUsername !== undefined && current !== expectedUsername && current !== username) return null;
      const holder = userHandleByUsername.get(username);
      if (holder !== undefined && holder !== userHandle) throw usernameTaken();
      // The index moves with the name: the old one is free at once.
      userHandleByUsername.delete(current);
      userHandleByUsername.set(username, userHandle);
      account.username = username;
      if (displayName !== undefined) account.displayName = displayName;
      return copyAccount(account);
    },
  };
  return {
    repository,
    lookUp,
    findByUsername: (username: string) => lookUp(userHandleByUsername.get(username)),
  };
}

// ---------------------------------------------------------------------------------------------------
// Copies: only the declared fields, with fresh bytes, arrays and dates.

function copyCredential(c: StoredCredential): StoredCredential {
  return {
    id: c.id,
    userHandle: c.userHandle,
    // `new Uint8Array(view)` copies the bytes (and turns a Node Buffer into a plain Uint8Array).
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

/** The repository's listing order: `createdAt`, then `id` by UTF-16 code units (byte order for base64url). */
function oldestFirst(a: StoredCredential, b: StoredCredential): number {
  const byTime = a.createdAt.getTime() - b.createdAt.getTime();
  if (byTime !== 0) return byTime;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
