import type { Knex } from 'knex';

/**
 * Jobs whose stop is more than 24 hours older than their last update (a late
 * re-describe): few rows, so a small index. A search sorted by stopped_at
 * ascending walks the stopped_at index from 24 hours before its date range
 * and takes these from here (src/store/jobs/search/walks.ts, orderedWalk), instead
 * of passing every job that stopped before the range.
 */
const NAME = 'jobs_stopped_long_before_update';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    `CREATE INDEX IF NOT EXISTS ?? ON jobs (stopped_at, job_id) INCLUDE (last_updated, status, job_queue)
     WHERE last_updated - stopped_at > interval '24 hours'`,
    [NAME],
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS ??', [NAME]);
}
