import type { PassgateLogger } from './config.js';
import type { ErrorCode } from './errors.js';
import type { Account, StoredCredential } from './types.js';

/**
 * What happened, for audit logs, metrics and alerts. Payloads carry ids and outcomes, never
 * challenges, keys or signatures.
 */
export interface PassgateEventMap {
  /** A passkey was registered: at sign-up (`signUp: true`) or added to a signed-in account. */
  registered: { account: Account; credential: StoredCredential; signUp: boolean };
  /** A sign-in succeeded. */
  signed_in: { account: Account; credential: StoredCredential; userVerified: boolean };
  /** A verify failed (any code: verification_failed, ceremony_expired, unknown_credential, ...). */
  verification_failed: {
    ceremony: 'registration' | 'authentication';
    code: ErrorCode;
    /** Short machine tag of the failed check, e.g. `challenge_mismatch`, `user_verification_missing`. */
    reason: string | undefined;
    userHandle?: string;
    credentialId?: string;
  };
  /** A validly signed assertion whose counter did not increase: a possible cloned authenticator. */
  clone_suspected: { account: Account; credential: StoredCredential; receivedCounter: number };
  credential_renamed: { account: Account; credential: StoredCredential };
  credential_deleted: { account: Account; credentialId: string };
  /**
   * A passkey was added to an account: the event to build a "a passkey was added to your account"
   * notification from. Emitted together with `registered`.
   */
  credential_added: CredentialChange<'sign_up' | 'signed_in' | 'conditional_create'>;
  /**
   * A passkey was removed: by its owner (`user`, `DELETE /credentials/:id`), by the application
   * (`application`, `revokeCredential`/`revokeAllCredentials`), or with its account
   * (`account_deleted`, `deletePasskeyAccount`). Sessions made with it end.
   */
  credential_removed: CredentialChange<'user' | 'application' | 'account_deleted'>;
}

/** What `credential_added` and `credential_removed` carry: enough for a notification, nothing secret. */
export interface CredentialChange<How extends string> {
  /** The application's user id. */
  userId: string;
  credentialId: string;
  /** The authenticator's model name from its AAGUID (e.g. "iCloud Keychain"), or null when unknown. */
  authenticatorName: string | null;
  aaguid: string;
  /** When it happened. */
  at: Date;
  how: How;
  account: Account;
}

export type PassgateEventName = keyof PassgateEventMap;
export type PassgateListener<K extends PassgateEventName> = (
  event: PassgateEventMap[K],
) => void | Promise<void>;

/**
 * A small typed emitter. Listeners run after the ceremony's outcome is decided and cannot change it:
 * a throwing or rejecting listener is logged and ignored.
 */
export class PassgateEvents {
  private readonly listeners = new Map<PassgateEventName, Set<PassgateListener<PassgateEventName>>>();

  constructor(private readonly logger: PassgateLogger) {}

  /** Adds a listener; returns a function that removes it. */
  on<K extends PassgateEventName>(name: K, listener: PassgateListener<K>): () => void {
    let set = this.listeners.get(name);
    if (!set) {
      set = new Set();
      this.listeners.set(name, set);
    }
    set.add(listener as PassgateListener<PassgateEventName>);
    return () => set.delete(listener as PassgateListener<PassgateEventName>);
  }

  emit<K extends PassgateEventName>(name: K, event: PassgateEventMap[K]): void {
    const set = this.listeners.get(name);
    if (!set) return;
    for (const listener of set) {
      try {
        const result = listener(event);
        if (result instanceof Promise) {
          result.catch((error: unknown) => this.logListenerError(name, error));
        }
      } catch (error) {
        this.logListenerError(name, error);
      }
    }
  }

  private logListenerError(name: string, error: unknown): void {
    this.logger.error('passgate event listener failed', {
      event: name,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}
