import type { Knex } from 'knex';

/**
 * Jobs that never stopped (stopped_at NULL), keyed by status: a search sorted
 * by stopped_at takes its never-stopped rows from here, one walk per status
 * its filter keeps (src/store/jobs/search/walks.ts, nullStopParts). Without it the
 * walk passed every never-stopped job at the NULL end of the stopped_at index
 * to find none that a FAILED filter keeps (1,500,000 entries, 363 ms on
 * 10,000,000 jobs). Only unfinished jobs are in it: small on a real mirror.
 */
const NAME = 'jobs_not_stopped_status';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    'CREATE INDEX IF NOT EXISTS ?? ON jobs (status, job_id) INCLUDE (last_updated, job_queue) WHERE stopped_at IS NULL',
    [NAME],
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS ??', [NAME]);
}
