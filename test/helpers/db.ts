import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { createDb, migrateLatest } from '../../src/store/db';
import { configWith } from '../../src/config/defaults';
import type { Config } from '../../src/config/schema';

/** Connection of the test Postgres; CI and the dev machine use trust auth on 127.0.0.1. */
export const PG = {
  database_host: process.env.PGHOST ?? '127.0.0.1',
  database_port: Number(process.env.PGPORT ?? 5432),
  database_username: process.env.PGUSER ?? 'postgres',
  database_password: process.env.PGPASSWORD,
};

function adminDb(): Knex {
  return createDb({ ...PG, database_name: 'postgres' }, { min: 0, max: 1 });
}

export interface TestDatabase {
  name: string;
  db: Knex;
  config: Config;
  /** Drops the database; call in after(). */
  drop(): Promise<void>;
}

/**
 * A database of its own for one test file, so files run in any order and in
 * one go. Migrated unless `migrate: false`.
 */
export async function createTestDatabase(opts: { migrate?: boolean; config?: Partial<Config> } = {}): Promise<TestDatabase> {
  const name = `bp_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = adminDb();
  try {
    await admin.raw(`CREATE DATABASE ${name}`);
  } finally {
    await admin.destroy();
  }
  const config = configWith({ ...PG, ...opts.config, database_name: name });
  const db = createDb(config);
  if (opts.migrate !== false) await migrateLatest(db);
  return {
    name,
    db,
    config,
    async drop() {
      await db.destroy();
      const a = adminDb();
      try {
        await a.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await a.destroy();
      }
    },
  };
}
