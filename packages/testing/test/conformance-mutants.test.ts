import { describe, expect, it } from 'vitest';
import {
  createProgrammaticRunner,
  describeStorageAdapterWith,
  type TestOutcome,
} from '../src/conformance/index.js';
import { createFlawedStores, type Flaw } from './mutants/flawed-memory-stores.js';

/**
 * The conformance suite's own test: deliberately broken adapters, each breaking exactly one promise
 * of `@passgate/core`'s `stores.ts`, run through the whole suite (programmatically, no child process),
 * which must fail each of them, in the test that holds that promise. The same adapter without a flaw
 * must pass, so a failure is never the suite's own.
 */
const CAUGHT_BY: Record<Flaw, string | readonly string[]> = {
  // ChallengeStore
  'put overwrites a pending id': 'put on a pending id resolves false and keeps the existing value',
  'put on a pending id resolves true': 'put on a pending id resolves false and keeps the existing value',
  'put treats an expired id as pending':
    'a value expires after its TTL, while a long-TTL value is still there',
  'consume does not remove': 'consume is single-use',
  'consume reads and removes in two steps': 'of concurrent consumers of one id, exactly one gets the value',
  'put checks and writes in two steps': 'of concurrent puts on one id, exactly one succeeds',
  'TTL ignored': 'a value expires after its TTL',
  'TTL doubled': 'a value is pending for its TTL and no longer',
  'TTL halved': 'a value is pending for its TTL and no longer',
  // Either test: the bounds test sees a 1400 ms TTL rounded up to 2000 ms only when its check at
  // 1700 ms runs less than 300 ms late, which a loaded machine running every flaw at once has missed;
  // the 1 ms TTL (1000 ms once rounded up, checked at 301 ms) leaves 700 ms.
  'TTL rounded up to whole seconds': [
    'a value is pending for its TTL and no longer',
    'takes TTLs from 1 ms (expires at once) to one hour (kept)',
  ],
  'TTL rounded down to whole seconds': 'a value is pending for its TTL and no longer',
  'TTL over ten minutes refused': 'takes TTLs from 1 ms (expires at once) to one hour (kept)',
  'expiry by the calling process clock': "expires by the store's clock",
  'challenge values NFC-normalised': 'arbitrary Unicode values round-trip exactly',
  'challenge values cut at 32 KiB': 'a value of 64 KiB of multi-byte UTF-8 round-trips exactly',
  // CredentialRepository
  'cap ignored': 'create with maxPerAccount rejects at the cap and writes nothing',
  'cap counted and written in two steps':
    'create with maxPerAccount: of 10 parallel adds at cap - 1, exactly one resolves',
  'cap checked before the id': 'credential_exists wins over too_many_credentials',
  'create overwrites an existing id': 'rejects a duplicate id with credential_exists and changes nothing',
  'create rejects a duplicate with a plain Error': 'rejects a duplicate id with credential_exists',
  'create checks and writes in two steps': 'of concurrent creates of one id, exactly one resolves',
  'create resolves a repeat of the stored values': 'rejects the very same credential created a second time',
  'create keeps the caller object':
    'keeps its own copy: mutating the created object afterwards changes nothing',
  'create indexes a rejected duplicate': 'rejects a duplicate id with credential_exists and changes nothing',
  'findById returns the stored object':
    'returns fresh copies: mutating a returned credential changes nothing stored',
  'ids unique over their first 1024 characters only': 'compares ids over their full length',
  'findById matches by prefix': 'compares ids over their full length',
  'ids compared case-insensitively': 'ids are case-sensitive (base64url)',
  'ties listed in insertion order': 'lists ties on createdAt by id in code-unit order',
  'ties listed in reverse insertion order': 'lists ties on createdAt by id in code-unit order',
  'ties listed by id case-insensitively': 'lists ties on createdAt by id in code-unit order',
  'listed newest first': 'lists oldest first, by createdAt then id',
  'list matches user handles by prefix':
    'CredentialRepository rules › compares user handles over their full length',
  'update ignores expectedCounter': 'resolves null and changes nothing when the counter does not match',
  'update reads and writes in two steps':
    'of concurrent updates with the same expectedCounter, exactly one applies',
  'update resolves null when no value changes': 'applies an update that changes no value',
  'update resolves the old state': 'applies when the counter matches and resolves the updated credential',
  'update ignores backedUp': 'applies when the counter matches and resolves the updated credential',
  'update keeps the caller Date':
    'returns fresh copies: mutating a returned credential changes nothing stored',
  'counter stored as signed 32-bit': 'keeps counters up to 2^32 - 1 (unsigned 32-bit)',
  'rename ignores the owner': "resolves null and changes nothing for another account's credential",
  'rename checks the owner apart from the write':
    'checks ownership in the same operation as rename and delete',
  'rename ignores null': 'sets and clears the nickname for the owner',
  'nicknames trimmed': 'keeps names exactly: no Unicode normalisation, trimming or case change of nicknames',
  'delete ignores the owner': "resolves 'not_found' for another account's credential, and keeps it",
  'delete checks the owner apart from the write':
    'checks ownership in the same operation as rename and delete',
  'delete checks last_credential before the owner': "'not_found' wins over 'last_credential'",
  'delete leaves the index entry': 'removes index entries on delete',
  'delete counts and removes in two steps':
    'concurrent deletes of the last two credentials (allowLast false) leave exactly one',
  'delete never answers last_credential':
    "resolves 'last_credential' for the only credential when allowLast is false",
  'delete ignores allowLast': "resolves 'deleted' for the only credential when allowLast is true",
  'delete resolves deleted twice': "of concurrent deletes of one credential, exactly one resolves 'deleted'",
  // AccountRepository
  'usernames compared case-insensitively':
    'usernames that differ only in case, accents, Unicode form or ß/ss',
  'usernames NFC-normalised': 'usernames that differ only in case, accents, Unicode form or ß/ss',
  'usernames accent-insensitive': 'usernames that differ only in case, accents, Unicode form or ß/ss',
  'display names NFC-normalised': 'keeps display names and usernames exactly',
  'display names trimmed': 'keeps display names and usernames exactly',
  'user ids compared case-insensitively': 'user ids are compared exactly: case and full length',
  'user handles unique over their first 40 characters only':
    'AccountRepository rules › user handles are compared over their full length',
  'sign-up writes the account before checking the credential':
    'rejects a taken credential id with credential_exists and writes no account',
  'sign-up checks and writes the username in two steps':
    'of concurrent creates with one username, exactly one resolves',
  'sign-up keeps the first credential object': 'keeps its own copy of the first credential',
  'sign-up keeps the account object':
    'returns fresh copies: mutating a returned account changes nothing stored',
  'sign-up checks the credential before the username': 'username_taken wins over credential_exists',
  'sign-up resolves a repeat of the stored values':
    'rejects the very same sign-up made a second time with username_taken',
  'a taken user handle is username_taken': 'rejects a taken user handle or user id with a plain Error',
  'account finders return the stored object':
    'returns fresh copies: mutating a returned account changes nothing stored',
  'sign-up stores the first credential elsewhere':
    'create stores the first credential where the credential repository reads it',
  'account delete leaves its credentials': 'deletes the account and every credential it owns',
  'account delete keeps the username taken': 'frees the username, the user id and the credential ids',
  'account delete resolves ids twice': 'of concurrent deletes of one account, exactly one resolves the ids',
  // AccountRepository.rename
  'account rename checks and writes in two steps':
    'of concurrent renames of several accounts to one username, exactly one resolves',
  'account rename keeps the old name taken': 'the old username is free at once',
  'account rename ignores expectedUsername': 'expectedUsername: applies when it matches',
  'account rename answers username_taken before null': 'resolves null for an unknown user handle',
  'account rename of its own name is username_taken': 'renaming to its own username resolves the account',
  'account rename ignores the display name': 'sets the display name when given',
  'account rename folds case': 'compares names exactly',
  'account rename returns the stored object': 'returns a fresh copy: mutating it changes nothing stored',
  'account rename writes for an account deleted meanwhile':
    "a rename racing the account's delete leaves no username behind",
  'account rename frees the name it read before a round trip':
    'concurrent renames of one account leave it with exactly one of the names',
  // SignInStore
  'sign-in read reads through other stores': 'reads through the very stores it is given with',
  'sign-in read does not consume': 'is single-use',
  'sign-in read consumes in two steps': 'of concurrent calls (and consumes) for one ceremony',
  'sign-in read skips the consume for an unknown credential':
    'consumes the ceremony also when the credential is unknown',
  'sign-in read ignores expiry': 'an expired ceremony resolves null',
  'sign-in read returns the stored objects': 'returns fresh copies: mutating them changes nothing stored',
  'sign-in read matches credential ids case-insensitively':
    'compares credential ids over their full length and case-sensitively',
  'sign-in read returns no account':
    'consumes the ceremony and resolves it with the credential and its account',
  'username read lists newest first':
    'findForSignIn resolves the account by username and its credentials, oldest first',
  'username read returns the stored objects': 'findForSignIn returns fresh copies',
  'username read ignores case':
    'findForSignIn: an account without credentials, an unknown username, a username in another case',
  // CountingStore
  'counted put ignores the limit':
    'login/options: after `points` requests the bucket refuses with 429 and Retry-After, and sets no ceremony',
  'counted put writes before counting': 'a refused putCounted stores nothing',
  'counted consume consumes before counting':
    'login/verify refused by the bucket consumes nothing: the ceremony still signs in from another address',
  'counted bucket apart from the limiter': "counts as the limiter's consume does, on the same key",
  'refused requests not counted': "counts as the limiter's consume does, on the same key",
  'counting reads through other stores':
    'keeps the buckets of its limiter and writes and reads through the very stores',
  // Failures
  'outage resolves a default': 'every method rejects with store_unavailable',
  'outage waits forever': 'every method rejects with store_unavailable',
  'outage error passed through unclassified': 'every method rejects with store_unavailable',
  'deployment fault reported as store_unavailable': 'every method rejects, but not with store_unavailable',
  'deployment fault resolves a default': 'every method rejects, but not with store_unavailable',
};

/** Runs the whole conformance suite against the flawed adapter; resolves every test's outcome. */
async function runSuite(flaw: Flaw | undefined): Promise<TestOutcome[]> {
  const { runner, run } = createProgrammaticRunner({ timeoutMs: 10_000 });
  describeStorageAdapterWith(runner, flaw ?? 'no flaw', () => ({ stores: createFlawedStores({ flaw }) }), {
    // The bounds test then checks a 1400 ms TTL at 1100 ms and 1700 ms: halved (700), doubled (2800)
    // and rounded to whole seconds (1000, 2000) all fall outside, each with 300 ms to spare for the
    // timers of a loaded machine, and so does a correct store's expiry.
    ttlMs: 800,
    ttlSlackMs: 300,
    concurrency: 20,
    unavailableWithinMs: 400,
    unreachable: () => ({ stores: createFlawedStores({ flaw, backend: 'hung', timeoutMs: 20 }) }),
    misconfigured: () => ({ stores: createFlawedStores({ flaw, backend: 'broken' }) }),
    counting: true,
    renaming: true,
  });
  return run();
}

const failedNames = (outcomes: TestOutcome[]) =>
  outcomes.filter((o) => o.status === 'failed').map((o) => o.name);

describe('the conformance suite fails every adapter that breaks one promise of stores.ts', () => {
  it('passes the same adapter without a flaw (so every failure below is the flaw)', async () => {
    const outcomes = await runSuite(undefined);
    const failed = outcomes.filter((o) => o.status === 'failed');
    expect(failed.map((o) => `${o.name}: ${String(o.error)}`)).toEqual([]);
    expect(outcomes.filter((o) => o.status === 'skipped')).toEqual([]);
    expect(outcomes.filter((o) => o.status === 'passed')).toHaveLength(outcomes.length);
  });

  const check = async (flaw: Flaw) => {
    const tests = ([] as string[]).concat(CAUGHT_BY[flaw]);
    const failed = failedNames(await runSuite(flaw));
    expect(failed.length, `the suite passed an adapter where ${flaw}`).toBeGreaterThan(0);
    expect(
      failed.some((name) => tests.some((test) => name.includes(test))),
      `${tests.map((test) => `"${test}"`).join(' or ')} should fail; failed instead: ${JSON.stringify(failed)}`,
    ).toBe(true);
  };

  const name = (flaw: Flaw) => `fails "${flaw}" in "${[CAUGHT_BY[flaw]].flat().join('" or "')}"`;

  // Alone: the suite moves this process's Date.now in that test, which other runs must not see.
  const clockFlaw: Flaw = 'expiry by the calling process clock';
  it(name(clockFlaw), () => check(clockFlaw));

  // Alone too: these keep a value longer than its TTL, which the suite sees only if its checks run
  // before that longer TTL is up (300 ms to spare in the bounds test, 700 ms in the 1 ms test, 1.1 s
  // for doubled). Side by side with the other runs, a loaded machine ran this process's timers late
  // enough that "TTL rounded up to whole seconds" passed the suite. A flaw that shortens or ignores
  // the TTL is seen however late the checks run.
  const lateFlaws: Flaw[] = ['TTL rounded up to whole seconds', 'TTL doubled'];
  for (const flaw of lateFlaws) it(name(flaw), () => check(flaw));

  // The others side by side (their stores never read Date.now): the runs mostly wait on timers.
  for (const flaw of Object.keys(CAUGHT_BY) as Flaw[]) {
    // 60 s: side by side, each run's timers share one loaded event loop (20 s was overrun once).
    if (flaw !== clockFlaw && !lateFlaws.includes(flaw)) it.concurrent(name(flaw), () => check(flaw), 60_000);
  }
});
