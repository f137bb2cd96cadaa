import type { Knex } from 'knex';

/**
 * An index of the jobs still active (SUBMITTED .. RUNNING), by queue.
 *
 * Each sync round asks per queue which jobs the mirror believes active
 * (listNonTerminalTopLevelJobIds), which of them AWS stopped listing
 * (markGone) and which array parents are open; the timeout killer asks for
 * active jobs with a timeout; scaling and the queues page count active jobs
 * per queue. Finished jobs are nearly all of a mirror kept forever, and
 * none of these questions had an index to skip them: at 10,000,000 jobs each
 * was a sequential scan of the whole table (1.6-5.3 s, every round).
 *
 * Only active rows have entries, so it stays as small as the active set;
 * a status change to a finished status adds no entry. Queries ask
 * `status IN (active)` (the same list) so the planner can prove they match
 * it; that equals `status NOT IN (SUCCEEDED, FAILED, GONE)` for every status
 * the mirror writes.
 */
const NAME = 'jobs_active';
const ACTIVE = "('SUBMITTED', 'PENDING', 'RUNNABLE', 'STARTING', 'RUNNING')";

export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    `CREATE INDEX IF NOT EXISTS ?? ON jobs (job_queue, status, job_id)
       INCLUDE (array_parent_id, created_at, timeout, termination_requested, last_seen_at, last_updated)
       WHERE status IN ${ACTIVE}`,
    [NAME],
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS ??', [NAME]);
}
