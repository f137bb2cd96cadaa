import type { Knex } from 'knex';

/**
 * Stats select jobs by when their run started (GET /api/v1/jobs/stats):
 * without an index on run_started_at every stats request read the whole
 * table. Jobs that never ran are left out of the index: stats never count them.
 * On a large adopted table the build holds writes for its duration (tens of
 * seconds at 10M rows); docs/migrating.md says to migrate before switching.
 */
const NAME = 'jobs_run_started_at';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX IF NOT EXISTS ?? ON jobs (run_started_at) WHERE run_started_at IS NOT NULL', [NAME]);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS ??', [NAME]);
}
