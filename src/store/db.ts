import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { types as pgTypes, type ClientBase as PgClientBase } from 'pg';
import type { Config } from '../config/schema';

// BIGINT (count(*), sums) as numbers, not strings: our counts fit in 2^53.
pgTypes.setTypeParser(20, (v: string) => Number(v));
// NUMERIC as numbers for the same reason (stats sums).
pgTypes.setTypeParser(1700, (v: string) => Number(v));

/** Beside src/ in a checkout (TypeScript), beside dist/src/ in the build (compiled JavaScript). */
export const MIGRATIONS_DIR = path.resolve(__dirname, '../../migrations');

/**
 * The migrations under the names knex_migrations records (`<name>.ts`, as
 * since the first release), whether loaded from the sources or from the
 * compiled build, so a database migrated by one is current for the other.
 */
export const migrationFiles: Knex.MigrationSource<string> = {
  async getMigrations() {
    return readdirSync(MIGRATIONS_DIR)
      .filter((file) => /^\d+_\w+\.(ts|js)$/.test(file))
      .sort();
  },
  getMigrationName: (file) => file.replace(/\.js$/, '.ts'),
  async getMigration(file) {
    return require(path.join(MIGRATIONS_DIR, file)) as Knex.Migration;
  },
};

export type DbConfig = Pick<
  Config,
  | 'database_host'
  | 'database_port'
  | 'database_username'
  | 'database_name'
  | 'database_password'
  | 'database_root_certificate'
>;

/** Per-connection settings: `statementTimeoutMs` cancels any statement (lock waits included) running longer. */
export interface SessionSettings {
  statementTimeoutMs?: number;
}

/** Knex settings for a Config: TLS with verify-full when a root certificate is set. */
export function knexSettings(
  config: DbConfig,
  pool: { min: number; max: number } = { min: 0, max: 10 },
  session: SessionSettings = {},
): Knex.Config {
  const ssl = config.database_root_certificate
    ? { ca: readFileSync(config.database_root_certificate, 'utf8'), rejectUnauthorized: true }
    : undefined;
  return {
    client: 'pg',
    connection: {
      host: config.database_host,
      port: config.database_port,
      user: config.database_username,
      database: config.database_name,
      password: config.database_password,
      ssl,
      application_name: 'batchiepatchie',
      ...(session.statementTimeoutMs ? { statement_timeout: session.statementTimeoutMs } : {}),
    },
    pool,
    migrations: { migrationSource: migrationFiles, tableName: 'knex_migrations' },
  };
}

export function createDb(config: DbConfig, pool?: { min: number; max: number }, session?: SessionSettings): Knex {
  return knexFactory(knexSettings(config, pool, session));
}

/** Applies every pending migration; returns the names applied. */
export async function migrateLatest(db: Knex): Promise<string[]> {
  const [, applied] = (await db.migrate.latest()) as [number, string[]];
  return applied;
}

/**
 * Runs `work` on one of the pool's pg connections (the transaction's own when
 * `db` is a transaction). For hot statements whose large bind parameter knex
 * would only pass through: the driver is called directly.
 */
export async function withPgConnection<T>(db: Knex, work: (client: PgClientBase) => Promise<T>): Promise<T> {
  const client = (await db.client.acquireConnection()) as PgClientBase;
  try {
    return await work(client);
  } finally {
    await db.client.releaseConnection(client);
  }
}

/**
 * Runs `work` in a transaction of its own (a savepoint inside the caller's)
 * with `settings` for it alone. A local setting lasts to the end of the
 * outermost transaction, not of a savepoint, so inside a caller's
 * transaction the values it had are put back once `work` succeeds; a failed
 * `work`'s savepoint is rolled back, which undoes them by itself.
 */
export async function withLocalSettings<T>(
  db: Knex,
  settings: Readonly<Record<string, string>>,
  work: (trx: Knex.Transaction) => Promise<T>,
): Promise<T> {
  const names = Object.keys(settings);
  const setAll = (trx: Knex.Transaction, values: readonly string[]) =>
    trx.raw(`SELECT ${names.map(() => 'set_config(?, ?, true)').join(', ')}`, names.flatMap((name, i) => [name, values[i]]));
  return db.transaction(async (trx) => {
    const before = db.isTransaction
      ? (await trx.raw<{ rows: { value: string }[] }>('SELECT current_setting(name) AS value FROM unnest(?::text[]) WITH ORDINALITY AS s(name, n) ORDER BY n', [names])).rows.map((r) => r.value)
      : null;
    await setAll(trx, names.map((name) => settings[name]));
    const result = await work(trx);
    if (before) await setAll(trx, before);
    return result;
  });
}
