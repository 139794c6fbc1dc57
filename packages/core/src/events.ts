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
