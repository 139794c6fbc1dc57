import type { Cluster, Redis } from 'ioredis';

/**
 * The ioredis client the application owns and passes in: a standalone/Sentinel `Redis` or a
 * `Cluster`. Passgate never connects, disconnects or reconfigures it.
 */
export type RedisClient = Redis | Cluster;

/**
 * Refuses a client that re-sends unanswered commands after a reconnect.
 *
 * ioredis's `autoResendUnfulfilledCommands` (on by default) sends every command still waiting for
 * its reply again once the connection is back. When the connection dropped after Redis ran the
 * command but before the reply arrived, the command runs twice and the caller receives the second
 * run's answer: a sign-up that succeeded answers `username_taken`, a consumed challenge answers
 * "not found", a delete answers `not_found`, the counter compare-and-set fails (a false clone alarm).
 * With the setting off, such a command fails instead (`store_unavailable`), which is the truth: its
 * outcome is unknown.
 */
export function assertNoAutoResend(client: RedisClient): void {
  const cluster = client.isCluster;
  const options = cluster ? (client as Cluster).options.redisOptions : (client as Redis).options;
  if (options?.autoResendUnfulfilledCommands === false) return;
  const where = cluster
    ? 'new Cluster(nodes, { redisOptions: { autoResendUnfulfilledCommands: false } })'
    : 'new Redis(url, { autoResendUnfulfilledCommands: false })';
  throw new TypeError(
    'passgate: create the ioredis client with autoResendUnfulfilledCommands: false ' +
      `(${where}). With ioredis's default (true), a command whose reply was lost when the ` +
      'connection dropped is sent again after the reconnect, so a write Redis already ran runs twice ' +
      'and Passgate receives the second answer (a successful sign-up answers username_taken, a ' +
      'consumed challenge answers not found, a successful sign-in is reported as a cloned passkey).',
  );
}

/**
 * The client's ioredis `keyPrefix` (`''` for none): ioredis adds it to a script's `KEYS` only, so a
 * script that builds a key itself needs it spelled out.
 */
export function clientKeyPrefix(client: RedisClient): string {
  if (client.isCluster) {
    const options = (client as Cluster).options;
    return options.keyPrefix ?? options.redisOptions?.keyPrefix ?? '';
  }
  return (client as Redis).options.keyPrefix ?? '';
}
