import type { Account, AccountRepository, StoredCredential } from '@passgate/core';
import { insertCredential } from './credential-repository.js';
import type { Db } from './pool.js';
import { ACCOUNT_COLUMNS, type AccountRow, accountFromRow } from './rows.js';
import { decodeId, decodeIdForWrite, type SqlNames } from './sql.js';

export class PostgresAccountRepository implements AccountRepository {
  constructor(
    private readonly db: Db,
    private readonly n: SqlNames,
  ) {}

  private async findOne(
    column: 'user_id' | 'user_handle' | 'username',
    value: unknown,
  ): Promise<Account | null> {
    const res = await this.db.query<AccountRow>(
      `SELECT ${ACCOUNT_COLUMNS} FROM ${this.n.accounts} WHERE ${column} = $1`,
      [value],
    );
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
    const [credentialSql, credentialValues] = insertCredential(this.n, firstCredential);
    await this.db.transaction(async (client) => {
      await client.query(`INSERT INTO ${this.n.accounts} (${ACCOUNT_COLUMNS}) VALUES ($1, $2, $3, $4, $5)`, [
        account.userId,
        handle,
        account.username,
        account.displayName,
        account.createdAt,
      ]);
      await client.query(credentialSql, credentialValues);
    });
  }
}
