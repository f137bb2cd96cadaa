import type { Knex } from 'knex';

/**
 * Drops jobs_created_at_timestamp (Go's index on `created_at`): no query
 * uses it, and every status change of a job put an entry in it (no update
 * of `jobs` is HOT: `status` and `last_updated` are indexed).
 *
 * Its only readers would be the two maintenance queries that test
 * `created_at`: the timed-out jobs (`created_at + timeout`, which the index
 * cannot serve; a sequential scan is planned either way, and only ordering
 * by `created_at` could walk it, dearer than sorting the few rows found) and
 * the jobs stuck in STARTING (found through jobs_status). The search sorts
 * and filters by other columns, the stats by run start. bench/README.md,
 * Store: 0 scans of it over the search mix, the stats and the cleaner.
 *
 * Rollback builds it again, as the Go schema has it.
 */
const NAME = 'jobs_created_at_timestamp';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS ??', [NAME]);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX IF NOT EXISTS ?? ON jobs (created_at)', [NAME]);
}
