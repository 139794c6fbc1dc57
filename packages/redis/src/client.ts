import type { Cluster, Redis } from 'ioredis';

/**
 * The ioredis client the application owns and passes in: a standalone/Sentinel `Redis` or a
 * `Cluster`. Passgate never connects, disconnects or reconfigures it.
 */
export type RedisClient = Redis | Cluster;
