export { isUnavailableError } from './errors.js';
export {
  LATEST_MIGRATION_VERSION,
  type MigrateOptions,
  type MigrateResult,
  type Migration,
  migrate,
  migrationSql,
  migrations,
} from './migrations.js';
export {
  type PostgresClient,
  type PostgresPool,
  type PostgresQueryConfig,
  type PreparedQueryPool,
  withPreparedQueries,
} from './pool.js';
export { PostgresSignInStore } from './sign-in-store.js';
export { DEFAULT_SCHEMA, DEFAULT_TABLE_PREFIX, type PostgresLocationOptions } from './sql.js';
export {
  type ChallengeSweeperOptions,
  createPostgresStores,
  type PostgresStores,
  type PostgresStoresOptions,
} from './stores.js';
