/**
 * Statement batching: the calls of one kind made during one turn of the event loop reach PostgreSQL
 * as one statement over arrays (`unnest`) instead of one statement each.
 *
 * Why: under load, the requests that one turn of the event loop handles often need the same
 * statement (a sign-in storm's `login/options` inserts, `login/verify` consumes, counter updates).
 * Each statement costs a round trip, a socket write and a wake-up of a database backend, and most
 * of a statement's database CPU is per statement, not per row.
 */

import { isPassgateError } from '@passgate/core';

/**
 * The PostgreSQL stores' `rerunAlone`: what the database refused. A statement it refused (a value,
 * a constraint) or ended for losing a deadlock or serialization conflict to another transaction
 * did nothing (a statement is atomic), so it is rerun call by call. Anything else fails every call
 * at once: an outage (a rerun would only wait again), and an error raised in the client, which may
 * come after the statement committed (a rerun would then find its ceremonies consumed).
 */
export function rerunRefused(error: unknown): boolean {
  if (isPassgateError(error)) {
    if (error.code !== 'store_unavailable' || !isServerError(error.cause)) return false;
    return error.cause.code === '40P01' || error.cause.code === '40001';
  }
  return isServerError(error);
}

/** An error PostgreSQL sent (node-postgres's `DatabaseError`: a severity and a SQLSTATE). */
function isServerError(error: unknown): error is { code: string; severity: string } {
  if (typeof error !== 'object' || error === null) return false;
  const { code, severity } = error as { code?: unknown; severity?: unknown };
  return typeof severity === 'string' && typeof code === 'string' && code.length === 5;
}

/**
 * A text parameter as PostgreSQL receives it, for a batch key: node-postgres sends strings as UTF-8,
 * which turns every lone surrogate into U+FFFD, so JavaScript strings that differ only there name
 * one row. Keyed by the raw string, such calls would share a statement, and a consume in it would
 * hand one row's value to each of them.
 */
export function textKey(value: string): string {
  return SURROGATE_RE.test(value) ? Buffer.from(value, 'utf8').toString('utf8') : value;
}

/** Any surrogate code unit (paired ones too, which the UTF-8 round trip keeps): the slow path. */
const SURROGATE_RE = /[\uD800-\uDFFF]/;

/** One waiting call. */
interface Waiting<I, R> {
  input: I;
  key: string;
  resolve(value: R): void;
  reject(error: unknown): void;
}

/** How a batcher runs its calls. */
export interface BatchRunner<I, R> {
  /**
   * The key two calls must not share a statement over: the row the call consumes or compares and
   * sets (a statement touches each row once, so a single-use consume or a compare-and-set of one
   * row is never decided twice in one statement). Calls with the same key go to separate statements.
   */
  keyOf(input: I): string;
  /** A lone call: the unbatched statement, exactly as without batching. */
  one(input: I): Promise<R>;
  /** Two or more calls with distinct keys, in one statement: one result per input, in input order. */
  many(inputs: readonly I[]): Promise<R[]>;
  /**
   * Whether a failure of `many` should be retried as one `one` per call, so that each call meets
   * the error it would have met alone (a value one call got wrong, a deadlock with another
   * transaction) rather than its neighbour's. When false, every call rejects with the error (an
   * outage, which a retry would only wait on again). Default: never.
   */
  rerunAlone?(error: unknown): boolean;
}

/**
 * Collects calls until the current turn of the event loop ends (`setImmediate`), then sends them:
 * a lone call with `one`, more with `many`, at most `maxSize` per statement (below 2: every call
 * goes to `one` at once, unbatched). A failed `many` is rerun call by call when `rerunAlone` says
 * so, and otherwise rejects every call in it with its error. Calls with the same key are split
 * across statements that run concurrently, as separate calls would be: the database's row locks
 * order them.
 */
export class TickBatcher<I, R> {
  private waiting: Waiting<I, R>[] = [];
  private scheduled = false;

  constructor(
    private readonly runner: BatchRunner<I, R>,
    private readonly maxSize: number,
  ) {}

  run(input: I): Promise<R> {
    // Batching off (`maxSize` 0 or 1): each call is its own statement, sent at once.
    if (this.maxSize < 2) return this.runner.one(input);
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ input, key: this.runner.keyOf(input), resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    let rest = this.waiting;
    this.waiting = [];
    while (rest.length > 0) {
      const batch: Waiting<I, R>[] = [];
      const later: Waiting<I, R>[] = [];
      const keys = new Set<string>();
      for (const call of rest) {
        if (batch.length < this.maxSize && !keys.has(call.key)) {
          keys.add(call.key);
          batch.push(call);
        } else {
          later.push(call);
        }
      }
      this.send(batch);
      rest = later;
    }
  }

  private send(batch: Waiting<I, R>[]): void {
    let results: Promise<R[]>;
    try {
      results =
        batch.length === 1
          ? this.runner.one((batch[0] as Waiting<I, R>).input).then((result) => [result])
          : this.runner.many(batch.map((call) => call.input));
    } catch (error) {
      results = Promise.reject(error);
    }
    results
      .then(
        (values) => {
          if (!Array.isArray(values) || values.length !== batch.length) {
            throw new Error(
              `passgate: a batched statement answered ${Array.isArray(values) ? values.length : 'no list'} for ${batch.length} calls`,
            );
          }
          for (let i = 0; i < batch.length; i++) (batch[i] as Waiting<I, R>).resolve(values[i] as R);
        },
        (error: unknown) => {
          if (batch.length > 1 && this.runner.rerunAlone?.(error)) {
            for (const call of batch) this.send([call]);
            return;
          }
          throw error;
        },
      )
      // Every call settles, whatever went wrong above (a rejection is never left unhandled).
      .catch((error: unknown) => {
        for (const call of batch) call.reject(error);
      });
  }
}
