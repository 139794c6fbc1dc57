import {
  type Account,
  type AccountRename,
  type AccountRepository,
  credentialExists,
  type StoredCredential,
  usernameTaken,
} from '@passgate/core';
import type { Db } from './db.js';
import { isDuplicateKey } from './errors.js';
import {
  ACCOUNT_COLUMNS,
  accountFromRow,
  accountValues,
  CREDENTIAL_COLUMNS,
  credentialValues,
  text,
} from './rows.js';
import type { Tables } from './schema.js';

export class MysqlAccountRepository implements AccountRepository {
  constructor(
    private readonly db: Db,
    private readonly t: Tables,
  ) {}

  private async findOne(
    column: 'user_handle' | 'user_id' | 'username',
    value: unknown,
  ): Promise<Account | null> {
    const [row] = await this.db.rows(
      `SELECT ${ACCOUNT_COLUMNS} FROM ${this.t.accounts} WHERE ${column} = ?`,
      [value],
    );
    return row === undefined ? null : accountFromRow(row);
  }

  findByUserHandle(userHandle: string): Promise<Account | null> {
    return this.findOne('user_handle', userHandle);
  }

  findByUserId(userId: string): Promise<Account | null> {
    return this.findOne('user_id', Buffer.from(userId, 'utf8'));
  }

  findByUsername(username: string): Promise<Account | null> {
    return this.findOne('username', Buffer.from(username, 'utf8'));
  }

  async create(account: Account, firstCredential: StoredCredential): Promise<void> {
    try {
      await this.db.transaction(async (tx) => {
        await tx.run(`INSERT INTO ${this.t.accounts} (${ACCOUNT_COLUMNS}) VALUES (?)`, [
          accountValues(account),
        ]);
        await tx.run(`INSERT INTO ${this.t.credentials} (${CREDENTIAL_COLUMNS}) VALUES (?)`, [
          credentialValues(firstCredential),
        ]);
      });
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      // The server names only the first unique key it hit (the primary key comes first). The
      // contract ranks the answers: a taken username, then a taken credential id, then a collision
      // of the random user handle or user id (a bug: a plain Error). Both transactions have ended,
      // so these reads see the winner's committed rows.
      if ((await this.findByUsername(account.username)) !== null) throw usernameTaken();
      const [taken] = await this.db.rows(`SELECT 1 FROM ${this.t.credentials} WHERE id = ?`, [
        firstCredential.id,
      ]);
      if (taken !== undefined) throw credentialExists();
      throw new Error('An account with this user handle or user id exists', { cause: error });
    }
  }

  /**
   * The account's row locked, the compare-and-set decided on that locked read, then one UPDATE: the
   * unique key on `username` refuses a name another row holds (`ER_DUP_ENTRY`: `username_taken`) and
   * decides races with creates and other renames; the old name is free when the transaction commits.
   */
  async rename(userHandle: string, rename: AccountRename): Promise<Account | null> {
    const { username, displayName, expectedUsername } = rename;
    try {
      return await this.db.transaction(async (tx) => {
        const [row] = await tx.rows(
          `SELECT username FROM ${this.t.accounts} WHERE user_handle = ? FOR UPDATE`,
          [userHandle],
        );
        if (row === undefined) return null;
        const current = text(row.username);
        if (expectedUsername !== undefined && current !== expectedUsername && current !== username)
          return null;
        await tx.run(
          `UPDATE ${this.t.accounts} SET username = ?, display_name = COALESCE(?, display_name) WHERE user_handle = ?`,
          [Buffer.from(username, 'utf8'), displayName ?? null, userHandle],
        );
        const [updated] = await tx.rows(
          `SELECT ${ACCOUNT_COLUMNS} FROM ${this.t.accounts} WHERE user_handle = ?`,
          [userHandle],
        );
        return updated === undefined ? null : accountFromRow(updated);
      });
    } catch (error) {
      if (isDuplicateKey(error)) throw usernameTaken();
      throw error;
    }
  }

  delete(userHandle: string): Promise<string[] | null> {
    return this.db.transaction(async (tx) => {
      const [account] = await tx.rows(
        `SELECT user_handle FROM ${this.t.accounts} WHERE user_handle = ? FOR UPDATE`,
        [userHandle],
      );
      if (account === undefined) return null;
      const rows = await tx.rows(`SELECT id FROM ${this.t.credentials} WHERE user_handle = ? FOR UPDATE`, [
        userHandle,
      ]);
      await tx.run(`DELETE FROM ${this.t.credentials} WHERE user_handle = ?`, [userHandle]);
      await tx.run(`DELETE FROM ${this.t.accounts} WHERE user_handle = ?`, [userHandle]);
      return rows.map((row) => String(row.id));
    });
  }
}
