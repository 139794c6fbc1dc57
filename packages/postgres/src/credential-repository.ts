import {
  type CreateCredentialOptions,
  type CredentialRepository,
  type CredentialSignInUpdate,
  credentialExists,
  type DeleteCredentialResult,
  type StoredCredential,
  tooManyCredentials,
} from '@passgate/core';
import { rerunRefused, TickBatcher } from './batch.js';
import { type Db, type PostgresClient, type Statement, statement } from './pool.js';
import { CREDENTIAL_COLUMNS, type CredentialRow, credentialFromRow } from './rows.js';
import { decodeId, decodeIdForWrite, type SqlNames, toBytea } from './sql.js';

/** `INSERT` of one credential row; its parameters are `credentialValues`. */
export function insertCredentialSql(n: SqlNames): string {
  return `INSERT INTO ${n.credentials} (${CREDENTIAL_COLUMNS})
     VALUES ($1, $2, $3, $4, $5, $6::text[], $7, $8, $9, $10, $11, $12, $13)`;
}

/** The parameters of `insertCredentialSql` for one credential. */
export function credentialValues(c: StoredCredential): unknown[] {
  return [
    decodeIdForWrite(c.id, 'credential.id'),
    decodeIdForWrite(c.userHandle, 'credential.userHandle'),
    toBytea(c.publicKey),
    c.algorithm,
    c.counter,
    [...c.transports],
    c.backupEligible,
    c.backedUp,
    c.aaguid,
    c.attestationFormat,
    c.nickname,
    c.createdAt,
    c.lastUsedAt,
  ];
}

/** Oldest first: by `createdAt`, then `id` as the base64url string (bytea order differs from it). */
export function byCreatedThenId(a: StoredCredential, b: StoredCredential): number {
  const t = a.createdAt.getTime() - b.createdAt.getTime();
  if (t !== 0) return t;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export class PostgresCredentialRepository implements CredentialRepository {
  private readonly sql: {
    insert: Statement;
    byId: Statement;
    byUserHandle: Statement;
    updateAfterSignIn: Statement;
    updateManyAfterSignIn: Statement;
    rename: Statement;
    deleteOwned: Statement;
  };
  private readonly signInUpdates: TickBatcher<UpdateCall, StoredCredential | null>;

  constructor(
    private readonly db: Db,
    private readonly n: SqlNames,
    /** Most counter updates per statement (see `batchStatements`); 0: one statement per update. */
    maxBatch = 0,
  ) {
    this.sql = {
      insert: statement(insertCredentialSql(n)),
      byId: statement(`SELECT ${CREDENTIAL_COLUMNS} FROM ${n.credentials} WHERE id = $1`),
      byUserHandle: statement(
        `SELECT ${CREDENTIAL_COLUMNS} FROM ${n.credentials} WHERE user_handle = $1 ORDER BY created_at, id`,
      ),
      updateAfterSignIn: statement(
        `UPDATE ${n.credentials}
          SET counter = $3, backed_up = $4, last_used_at = $5
        WHERE id = $1 AND counter = $2
        RETURNING ${CREDENTIAL_COLUMNS}`,
      ),
      // The same for several distinct credentials, each with its own expected counter. The rows are
      // locked first, in id order (`locked`), as a guarded delete locks an account's rows: the
      // update's own join would lock them in plan order (physical order under a hash join), which
      // deadlocks with a delete holding a lower id and waiting for a higher one.
      updateManyAfterSignIn: statement(
        `WITH locked AS (
           SELECT id FROM ${n.credentials} WHERE id = ANY($1::bytea[]) ORDER BY id FOR NO KEY UPDATE
         )
         UPDATE ${n.credentials} AS c
          SET counter = r.counter, backed_up = r.backed_up, last_used_at = r.last_used_at
         FROM unnest($1::bytea[], $2::bigint[], $3::bigint[], $4::boolean[], $5::timestamptz[])
              AS r(id, expected, counter, backed_up, last_used_at)
        WHERE c.id = r.id AND c.counter = r.expected AND c.id IN (SELECT id FROM locked)
        RETURNING ${CREDENTIAL_COLUMNS.split(', ')
          .map((column) => `c.${column}`)
          .join(', ')}`,
      ),
      rename: statement(
        `UPDATE ${n.credentials} SET nickname = $3
        WHERE id = $1 AND user_handle = $2
        RETURNING ${CREDENTIAL_COLUMNS}`,
      ),
      deleteOwned: statement(`DELETE FROM ${n.credentials} WHERE id = $1 AND user_handle = $2`),
    };
    this.signInUpdates = new TickBatcher<UpdateCall, StoredCredential | null>(
      {
        keyOf: (call) => call.key.toString('hex'),
        one: (call) => this.updateOne(call),
        many: (calls) => this.updateMany(calls),
        rerunAlone: rerunRefused,
      },
      maxBatch,
    );
  }

  async create(credential: StoredCredential, options: CreateCredentialOptions = {}): Promise<void> {
    const values = credentialValues(credential);
    const max = options.maxPerAccount;
    if (max === undefined) {
      await this.db.query(this.sql.insert, values);
      return;
    }
    // The account row's lock queues concurrent adds to one account, so each counts what the
    // previous one committed (a count and an insert without it would both pass at cap - 1).
    // NO KEY UPDATE, because the insert's foreign key check takes KEY SHARE on the same row.
    const owner = values[1];
    await this.db.transaction(async (client: PostgresClient) => {
      await client.query(`SELECT 1 FROM ${this.n.accounts} WHERE user_handle = $1 FOR NO KEY UPDATE`, [
        owner,
      ]);
      // An id that is taken answers credential_exists even when the account is full too.
      const taken = await client.query(`SELECT 1 FROM ${this.n.credentials} WHERE id = $1`, [values[0]]);
      if ((taken.rowCount ?? 0) > 0) throw credentialExists();
      const held = await client.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${this.n.credentials} WHERE user_handle = $1`,
        [owner],
      );
      if (Number(held.rows[0]?.n ?? 0) >= max) throw tooManyCredentials();
      await client.query(this.sql.insert.text, values);
    });
  }

  async findById(id: string): Promise<StoredCredential | null> {
    const key = decodeId(id);
    if (key === null) return null;
    const res = await this.db.query<CredentialRow>(this.sql.byId, [key]);
    const row = res.rows[0];
    return row ? credentialFromRow(row) : null;
  }

  async listByUserHandle(userHandle: string): Promise<StoredCredential[]> {
    const key = decodeId(userHandle);
    if (key === null) return [];
    const res = await this.db.query<CredentialRow>(this.sql.byUserHandle, [key]);
    return res.rows.map(credentialFromRow).sort(byCreatedThenId);
  }

  async updateAfterSignIn(update: CredentialSignInUpdate): Promise<StoredCredential | null> {
    const key = decodeId(update.id);
    if (key === null) return null;
    const call = { key, update };
    return this.signInUpdates.run(call);
  }

  private async updateOne({ key, update }: UpdateCall): Promise<StoredCredential | null> {
    const res = await this.db.query<CredentialRow>(this.sql.updateAfterSignIn, [
      key,
      update.expectedCounter,
      update.counter,
      update.backedUp,
      update.lastUsedAt,
    ]);
    const row = res.rows[0];
    return row ? credentialFromRow(row) : null;
  }

  private async updateMany(calls: readonly UpdateCall[]): Promise<(StoredCredential | null)[]> {
    const sorted = [...calls].sort((a, b) => Buffer.compare(a.key, b.key));
    const res = await this.db.query<CredentialRow>(this.sql.updateManyAfterSignIn, [
      sorted.map((call) => call.key),
      sorted.map((call) => call.update.expectedCounter),
      sorted.map((call) => call.update.counter),
      sorted.map((call) => call.update.backedUp),
      sorted.map((call) => call.update.lastUsedAt),
    ]);
    const updated = new Map(res.rows.map((row) => [row.id.toString('hex'), row]));
    return calls.map((call) => {
      const row = updated.get(call.key.toString('hex'));
      return row ? credentialFromRow(row) : null;
    });
  }

  async rename(userHandle: string, id: string, nickname: string | null): Promise<StoredCredential | null> {
    const owner = decodeId(userHandle);
    const key = decodeId(id);
    if (owner === null || key === null) return null;
    const res = await this.db.query<CredentialRow>(this.sql.rename, [key, owner, nickname]);
    const row = res.rows[0];
    return row ? credentialFromRow(row) : null;
  }

  async delete(
    userHandle: string,
    id: string,
    options: { allowLast: boolean },
  ): Promise<DeleteCredentialResult> {
    const owner = decodeId(userHandle);
    const key = decodeId(id);
    if (owner === null || key === null) return 'not_found';
    if (options.allowLast) {
      const res = await this.db.query(this.sql.deleteOwned, [key, owner]);
      return res.rowCount ? 'deleted' : 'not_found';
    }
    // Lock every credential of the account (in one order, so concurrent deletes queue instead of
    // deadlocking), then decide on what is left. A delete that waited sees the rows the other one
    // removed as gone, so two deletes of the last two credentials cannot both succeed.
    return this.db.transaction(async (client: PostgresClient) => {
      const locked = await client.query<{ id: Buffer }>(
        `SELECT id FROM ${this.n.credentials} WHERE user_handle = $1 ORDER BY id FOR UPDATE`,
        [owner],
      );
      if (!locked.rows.some((r) => key.equals(r.id))) return 'not_found';
      if (locked.rows.length < 2) return 'last_credential';
      await client.query(this.sql.deleteOwned.text, [key, owner]);
      return 'deleted';
    });
  }
}

interface UpdateCall {
  /** The credential id's bytes. */
  key: Buffer;
  update: CredentialSignInUpdate;
}
