import type {
  Account,
  AccountRepository,
  ChallengeStore,
  CredentialRepository,
  SignInReads,
  SignInStore,
  UsernameReads,
} from '@passgate/core';
import { rerunRefused, TickBatcher, textKey } from './batch.js';
import { consumeChallengeSql } from './challenge-store.js';
import { byCreatedThenId } from './credential-repository.js';
import { type Db, type Statement, statement } from './pool.js';
import {
  ACCOUNT_COLUMNS,
  accountFromRow,
  CREDENTIAL_COLUMNS,
  type CredentialRow,
  credentialFromRow,
} from './rows.js';
import { decodeId, type SqlNames } from './sql.js';

/** The joined row: the consumed value, the credential's columns, the account's under `a_` names. */
interface SignInRow extends CredentialRow {
  ceremony: string | null;
  a_user_id: string | null;
  a_user_handle: Buffer | null;
  a_username: string;
  a_display_name: string;
  a_created_at: Date;
}

/**
 * A sign-in verify's first reads in one statement: the challenge's `DELETE … RETURNING` in a CTE,
 * and the credential joined to its account. One round trip instead of three; one snapshot, so the
 * account is the owner of the credential as read. The CTE runs exactly once whether or not a
 * credential matches, so the ceremony is consumed either way.
 */
export class PostgresSignInStore implements SignInStore {
  private readonly sql: { consume: Statement; consumeMany: Statement; byUsername: Statement };
  private readonly consumes: TickBatcher<ConsumeCall, SignInReads>;

  constructor(
    private readonly db: Db,
    n: SqlNames,
    readonly readsFrom: {
      challenges: ChallengeStore;
      credentials: CredentialRepository;
      accounts: AccountRepository;
    },
    /** Most verifies per statement (see `batchStatements`); 0: one statement per verify. */
    maxBatch = 0,
  ) {
    this.sql = {
      consume: statement(
        `WITH consumed AS (${consumeChallengeSql(n)})
       SELECT (SELECT value FROM consumed) AS ceremony,
              c.id, c.user_handle, c.public_key, c.algorithm, c.counter, c.transports, c.backup_eligible,
              c.backed_up, c.aaguid, c.attestation_format, c.nickname, c.created_at, c.last_used_at,
              a.user_id AS a_user_id, a.user_handle AS a_user_handle, a.username AS a_username,
              a.display_name AS a_display_name, a.created_at AS a_created_at
         FROM (SELECT 1) AS one
         LEFT JOIN ${n.credentials} c ON c.id = $2
         LEFT JOIN ${n.accounts} a ON a.user_handle = c.user_handle`,
      ),
      // The same for several distinct ceremonies: one row per call, in call order (`ord`). Each
      // ceremony row is deleted (and returned) at most once, so single use holds within the batch.
      //
      // Written so that each table is read by key, one probe per call, at any table size. A prepared
      // statement runs on a generic plan, made once per connection for about 10 array elements and
      // kept until something invalidates it (an ANALYZE or VACUUM of the table): with plain joins and
      // `id = ANY($1)`, one made while the table held a few hundred rows reads the whole table (a
      // sequential scan or a hash join), every time, however large the table has grown since.
      // `LATERAL (… LIMIT 1)` keeps each lookup a probe of the key for its row (the LIMIT stops
      // PostgreSQL from turning it back into a join); the DELETE takes the rows those probes found,
      // by ctid.
      //
      // The arrays are read through sub-selects, so that no plan sees their values: planned for the
      // values, probes of 2 rows cost less than the generic plan's assumed 10, and PostgreSQL would
      // plan the statement again for every batch (15% of the database's CPU in the bench) instead of
      // keeping the generic plan after five runs.
      //
      // Single use across instances, as `consumeChallengeSql`: a row another consume deleted
      // meanwhile is skipped. A row a put re-filled meanwhile (one expired by the put's clock, which
      // may run ahead of this statement's) is a new row version: releases with PostgreSQL's fix of
      // the TID scan's recheck (the 15.20 we test on has it) skip it, older ones may consume it with
      // its new value, as `consumeChallengeSql` does. Either way at most once, never an expired one
      // (`consume-refill-race.test.ts` makes this race happen).
      // `id = ANY(…)` and `expires_at` are checked again on whatever row version is deleted.
      consumeMany: statement(
        `WITH r AS (SELECT * FROM unnest((SELECT $1::text[]), (SELECT $2::bytea[])) WITH ORDINALITY
                          AS r(ceremony_id, key, ord)),
            consumed AS (
              DELETE FROM ${n.challenges}
               WHERE ctid = ANY (ARRAY(
                       SELECT found.ctid FROM r
                        CROSS JOIN LATERAL (SELECT ctid FROM ${n.challenges} WHERE id = r.ceremony_id LIMIT 1) AS found))
                 AND id = ANY ((SELECT $1::text[])::text[]) AND expires_at > now()
              RETURNING id, value)
       SELECT consumed.value AS ceremony,
              c.id, c.user_handle, c.public_key, c.algorithm, c.counter, c.transports, c.backup_eligible,
              c.backed_up, c.aaguid, c.attestation_format, c.nickname, c.created_at, c.last_used_at,
              a.user_id AS a_user_id, a.user_handle AS a_user_handle, a.username AS a_username,
              a.display_name AS a_display_name, a.created_at AS a_created_at
         FROM r
         LEFT JOIN consumed ON consumed.id = r.ceremony_id
         LEFT JOIN LATERAL (SELECT ${CREDENTIAL_COLUMNS} FROM ${n.credentials} WHERE id = r.key LIMIT 1) AS c ON true
         LEFT JOIN LATERAL (SELECT ${ACCOUNT_COLUMNS} FROM ${n.accounts} WHERE user_handle = c.user_handle LIMIT 1) AS a
           ON true
        ORDER BY r.ord`,
      ),
      // The account (if any) joined to its credentials, or to the stand-in handle's (none) when the
      // username is unknown: the same index probes either way.
      byUsername: statement(
        `WITH a AS (SELECT ${ACCOUNT_COLUMNS} FROM ${n.accounts} WHERE username = $1)
       SELECT NULL AS ceremony,
              a.user_id AS a_user_id, a.user_handle AS a_user_handle, a.username AS a_username,
              a.display_name AS a_display_name, a.created_at AS a_created_at,
              c.id, c.user_handle, c.public_key, c.algorithm, c.counter, c.transports, c.backup_eligible,
              c.backed_up, c.aaguid, c.attestation_format, c.nickname, c.created_at, c.last_used_at
         FROM (SELECT 1) AS one
         LEFT JOIN a ON true
         LEFT JOIN ${n.credentials} c ON c.user_handle = COALESCE(a.user_handle, $2)`,
      ),
    };
    this.consumes = new TickBatcher<ConsumeCall, SignInReads>(
      {
        keyOf: (call) => textKey(call.ceremonyId),
        one: (call) => this.consumeOne(call),
        many: (calls) => this.consumeMany(calls),
        rerunAlone: rerunRefused,
      },
      maxBatch,
    );
  }

  async consumeForSignIn(ceremonyId: string, credentialId: string): Promise<SignInReads> {
    // A non-canonical id names no credential (as `findById`); the ceremony is consumed all the same.
    const call = { ceremonyId, key: decodeId(credentialId) };
    return this.consumes.run(call);
  }

  private async consumeOne({ ceremonyId, key }: ConsumeCall): Promise<SignInReads> {
    const res = await this.db.query<SignInRow>(this.sql.consume, [ceremonyId, key]);
    const row = res.rows[0];
    if (row === undefined) throw new Error('the sign-in statement returned no row');
    return signInReadsOf(row);
  }

  private async consumeMany(calls: readonly ConsumeCall[]): Promise<SignInReads[]> {
    const res = await this.db.query<SignInRow>(this.sql.consumeMany, [
      calls.map((call) => call.ceremonyId),
      calls.map((call) => call.key),
    ]);
    return res.rows.map(signInReadsOf);
  }

  async findForSignIn(username: string, standInHandle: string): Promise<UsernameReads> {
    const res = await this.db.query<SignInRow>(this.sql.byUsername, [username, decodeId(standInHandle)]);
    const first = res.rows[0];
    const account = first === undefined ? null : accountOf(first);
    if (account === null) return { account: null, credentials: [] };
    const credentials = res.rows.filter((row) => row.id !== null).map(credentialFromRow);
    return { account, credentials: credentials.sort(byCreatedThenId) };
  }
}

interface ConsumeCall {
  ceremonyId: string;
  /** The credential id's bytes; `null` for a non-canonical id, which names no credential. */
  key: Buffer | null;
}

function signInReadsOf(row: SignInRow): SignInReads {
  const credential = row.id === null ? null : credentialFromRow(row);
  const account = credential === null ? null : accountOf(row);
  return { ceremony: row.ceremony, credential, account };
}

/** The account's columns of a joined row (`a_` names), or `null` when the join found none. */
function accountOf(row: SignInRow): Account | null {
  if (row.a_user_id === null || row.a_user_handle === null) return null;
  return accountFromRow({
    user_id: row.a_user_id,
    user_handle: row.a_user_handle,
    username: row.a_username,
    display_name: row.a_display_name,
    created_at: row.a_created_at,
  });
}
