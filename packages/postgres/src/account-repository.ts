import {
  type Account,
  type AccountRename,
  type AccountRepository,
  credentialExists,
  type StoredCredential,
  usernameTaken,
} from '@passgate/core';
import { credentialValues, insertCredentialSql } from './credential-repository.js';
import { IdentifierCollisionError } from './errors.js';
import { type Db, type Statement, statement } from './pool.js';
import { ACCOUNT_COLUMNS, type AccountRow, accountFromRow } from './rows.js';
import { decodeId, decodeIdForWrite, encodeId, type SqlNames } from './sql.js';

type AccountKey = 'user_id' | 'user_handle' | 'username';

export class PostgresAccountRepository implements AccountRepository {
  private readonly sql: {
    by: Record<AccountKey, Statement>;
    credentialTaken: Statement;
    insertCredential: string;
    rename: Statement;
  };

  constructor(
    private readonly db: Db,
    private readonly n: SqlNames,
  ) {
    const by = (column: AccountKey) =>
      statement(`SELECT ${ACCOUNT_COLUMNS} FROM ${n.accounts} WHERE ${column} = $1`);
    this.sql = {
      by: { user_id: by('user_id'), user_handle: by('user_handle'), username: by('username') },
      credentialTaken: statement(`SELECT 1 FROM ${n.credentials} WHERE id = $1`),
      insertCredential: insertCredentialSql(n),
      // One statement: the unique index on username decides races with creates and other renames
      // (a taken name is a unique violation, mapped to username_taken), and the old name is free
      // the moment it commits. $4 NULL: no compare-and-set.
      rename: statement(
        `UPDATE ${n.accounts} SET username = $2, display_name = COALESCE($3, display_name)
          WHERE user_handle = $1 AND ($4::text IS NULL OR username = $4 OR username = $2)
          RETURNING ${ACCOUNT_COLUMNS}`,
      ),
    };
  }

  private async findOne(column: AccountKey, value: unknown): Promise<Account | null> {
    const res = await this.db.query<AccountRow>(this.sql.by[column], [value]);
    const row = res.rows[0];
    return row ? accountFromRow(row) : null;
  }

  async findByUserHandle(userHandle: string): Promise<Account | null> {
    const key = decodeId(userHandle);
    return key === null ? null : this.findOne('user_handle', key);
  }

  findByUserId(userId: string): Promise<Account | null> {
    return this.findOne('user_id', userId);
  }

  findByUsername(username: string): Promise<Account | null> {
    return this.findOne('username', username);
  }

  async create(account: Account, firstCredential: StoredCredential): Promise<void> {
    const handle = decodeIdForWrite(account.userHandle, 'account.userHandle');
    const values = credentialValues(firstCredential);
    try {
      await this.insertAccount(account, handle, values);
    } catch (error) {
      // The primary key (user id) is checked before the other unique indexes: when the user id or
      // handle collided, a taken username or credential id still answers first, as the contract ranks.
      if (!(error instanceof IdentifierCollisionError)) throw error;
      if ((await this.findByUsername(account.username)) !== null) throw usernameTaken();
      const credentialKey = decodeId(firstCredential.id);
      const taken = await this.db.query(this.sql.credentialTaken, [credentialKey]);
      if ((taken.rowCount ?? 0) > 0) throw credentialExists();
      throw error;
    }
  }

  private async insertAccount(account: Account, handle: Buffer, credential: unknown[]): Promise<void> {
    await this.db.transaction(async (client) => {
      await client.query(`INSERT INTO ${this.n.accounts} (${ACCOUNT_COLUMNS}) VALUES ($1, $2, $3, $4, $5)`, [
        account.userId,
        handle,
        account.username,
        account.displayName,
        account.createdAt,
      ]);
      await client.query(this.sql.insertCredential, credential);
    });
  }

  async rename(userHandle: string, rename: AccountRename): Promise<Account | null> {
    const key = decodeId(userHandle);
    if (key === null) return null;
    const res = await this.db.query<AccountRow>(this.sql.rename, [
      key,
      rename.username,
      rename.displayName ?? null,
      rename.expectedUsername ?? null,
    ]);
    const row = res.rows[0];
    return row ? accountFromRow(row) : null;
  }

  async delete(userHandle: string): Promise<string[] | null> {
    const key = decodeId(userHandle);
    if (key === null) return null;
    return this.db.transaction(async (client) => {
      // The row lock orders this against concurrent deletes and against credential inserts (their
      // foreign-key check takes a share lock on the same row): none is left behind, none is orphaned.
      const locked = await client.query(
        `SELECT 1 FROM ${this.n.accounts} WHERE user_handle = $1 FOR UPDATE`,
        [key],
      );
      if (locked.rowCount === 0) return null;
      const gone = await client.query<{ id: Buffer }>(
        `DELETE FROM ${this.n.credentials} WHERE user_handle = $1 RETURNING id`,
        [key],
      );
      await client.query(`DELETE FROM ${this.n.accounts} WHERE user_handle = $1`, [key]);
      return gone.rows.map((row) => encodeId(row.id));
    });
  }
}
