import {
  type CreateCredentialOptions,
  type CredentialRepository,
  type CredentialSignInUpdate,
  credentialExists,
  type DeleteCredentialResult,
  type StoredCredential,
  tooManyCredentials,
} from '@passgate/core';
import type { Db, Tx } from './db.js';
import { isDuplicateKey } from './errors.js';
import { CREDENTIAL_COLUMNS, credentialFromRow, credentialValues } from './rows.js';
import type { Tables } from './schema.js';

/**
 * Credentials in one table. Every read that decides a write is a locking read in the same
 * transaction as the write (never rows "changed" by an UPDATE, which MySQL counts differently
 * depending on the client's FOUND_ROWS flag).
 */
export class MysqlCredentialRepository implements CredentialRepository {
  constructor(
    private readonly db: Db,
    private readonly t: Tables,
  ) {}

  /** The credential row `id`, locked; with `userHandle`, only if that account owns it. */
  private async lockCredential(tx: Tx, id: string, userHandle?: string): Promise<StoredCredential | null> {
    const owner = userHandle === undefined ? '' : ' AND user_handle = ?';
    const values = userHandle === undefined ? [id] : [id, userHandle];
    const [row] = await tx.rows(
      `SELECT ${CREDENTIAL_COLUMNS} FROM ${this.t.credentials} WHERE id = ?${owner} FOR UPDATE`,
      values,
    );
    return row === undefined ? null : credentialFromRow(row);
  }

  /** Locks the account row, which queues every write that counts the account's credentials. */
  private async lockAccount(tx: Tx, userHandle: string): Promise<void> {
    await tx.rows(`SELECT user_handle FROM ${this.t.accounts} WHERE user_handle = ? FOR UPDATE`, [
      userHandle,
    ]);
  }

  async create(credential: StoredCredential, options: CreateCredentialOptions = {}): Promise<void> {
    const values = credentialValues(credential);
    try {
      await this.db.transaction(async (tx) => {
        await this.lockAccount(tx, credential.userHandle);
        // credential_exists answers before too_many_credentials.
        if ((await this.lockCredential(tx, credential.id)) !== null) throw credentialExists();
        if (options.maxPerAccount !== undefined) {
          const [held] = await tx.rows(
            `SELECT COUNT(*) AS n FROM ${this.t.credentials} WHERE user_handle = ? FOR UPDATE`,
            [credential.userHandle],
          );
          if (Number(held?.n) >= options.maxPerAccount) throw tooManyCredentials();
        }
        await tx.run(`INSERT INTO ${this.t.credentials} (${CREDENTIAL_COLUMNS}) VALUES (?)`, [values]);
      });
    } catch (error) {
      // The primary key decides between concurrent creates of one id (across accounts).
      if (isDuplicateKey(error)) throw credentialExists();
      throw error;
    }
  }

  async findById(id: string): Promise<StoredCredential | null> {
    const [row] = await this.db.rows(`SELECT ${CREDENTIAL_COLUMNS} FROM ${this.t.credentials} WHERE id = ?`, [
      id,
    ]);
    return row === undefined ? null : credentialFromRow(row);
  }

  async listByUserHandle(userHandle: string): Promise<StoredCredential[]> {
    // `id` is ascii_bin: ties sort in base64url's code-unit order, as the contract says.
    const rows = await this.db.rows(
      `SELECT ${CREDENTIAL_COLUMNS} FROM ${this.t.credentials} WHERE user_handle = ? ORDER BY created_at, id`,
      [userHandle],
    );
    return rows.map(credentialFromRow);
  }

  updateAfterSignIn(update: CredentialSignInUpdate): Promise<StoredCredential | null> {
    return this.db.transaction(async (tx) => {
      const current = await this.lockCredential(tx, update.id);
      if (current === null || current.counter !== update.expectedCounter) return null;
      await tx.run(
        `UPDATE ${this.t.credentials} SET counter = ?, backed_up = ?, last_used_at = ? WHERE id = ?`,
        [update.counter, update.backedUp, update.lastUsedAt.getTime(), update.id],
      );
      return {
        ...current,
        counter: update.counter,
        backedUp: update.backedUp,
        lastUsedAt: new Date(update.lastUsedAt.getTime()),
      };
    });
  }

  rename(userHandle: string, id: string, nickname: string | null): Promise<StoredCredential | null> {
    return this.db.transaction(async (tx) => {
      // Ownership and the write under one row lock: a credential re-registered by another account
      // meanwhile is not this account's row any more.
      const current = await this.lockCredential(tx, id, userHandle);
      if (current === null) return null;
      await tx.run(`UPDATE ${this.t.credentials} SET nickname = ? WHERE id = ? AND user_handle = ?`, [
        nickname,
        id,
        userHandle,
      ]);
      return { ...current, nickname };
    });
  }

  delete(userHandle: string, id: string, options: { allowLast: boolean }): Promise<DeleteCredentialResult> {
    return this.db.transaction(async (tx) => {
      // The account row lock queues concurrent deletes of one account: each counts what the previous
      // one left, so two deletes of the last two credentials never both succeed.
      await this.lockAccount(tx, userHandle);
      if ((await this.lockCredential(tx, id, userHandle)) === null) return 'not_found';
      if (!options.allowLast) {
        const [held] = await tx.rows(
          `SELECT COUNT(*) AS n FROM ${this.t.credentials} WHERE user_handle = ? FOR UPDATE`,
          [userHandle],
        );
        if (Number(held?.n) <= 1) return 'last_credential';
      }
      await tx.run(`DELETE FROM ${this.t.credentials} WHERE id = ? AND user_handle = ?`, [id, userHandle]);
      return 'deleted';
    });
  }
}
