import type { Knex } from 'knex';

/**
 * The jobs of a task ARN (the stats rollup's task marks), found through two
 * partial indexes instead of one over every row: one of the jobs that have
 * not stopped, one of those that have.
 *
 * Task ARNs are random, so each new row version with one wrote a random page
 * of a hash index as large as the table's history (320 MiB at 10M jobs): a
 * cold page read and dirtied, and after every checkpoint a full-page image,
 * for every status change of a running job. Split by stop, the changes of
 * running jobs go to an index only as large as the jobs still running, which
 * stays in memory; a job enters the large one once, when it stops.
 *
 * Each is a btree of the ARN's hash code (4 bytes an entry; the lookup
 * compares the ARN itself too): a hash index is sized at its build from the
 * whole table whatever its predicate, so the running jobs' one would have
 * been as large as the old index. Jobs without an ARN (all waiting ones) are
 * left out, as the hash index left them out.
 *
 * The planner reads no statistics from a partial index's expression: without
 * the statistics object below it took each hash code for 42,000 jobs, and
 * resolved 100 task marks by reading all of `jobs` (2 s at 10M) instead of
 * 100 lookups (12 ms). ANALYZE fills it at once (a sample: ~1 s at 10M).
 *
 * Built before the old index is dropped, so the marks are never without one.
 * Each build reads the table once (~4 s for 10M jobs already in memory;
 * longer when the table must come from disk).
 */
/** The two indexes by name, with what follows `ON jobs` (bench:store drops and rebuilds them too). */
export const TASK_ARN_INDEXES: readonly (readonly [string, string])[] = [
  ['jobs_task_arn_running', '(hashtext(task_arn)) WHERE stopped_at IS NULL AND task_arn IS NOT NULL'],
  ['jobs_task_arn_stopped', '(hashtext(task_arn)) WHERE stopped_at IS NOT NULL AND task_arn IS NOT NULL'],
];

export async function up(knex: Knex): Promise<void> {
  for (const [name, definition] of TASK_ARN_INDEXES) await knex.raw(`CREATE INDEX IF NOT EXISTS ?? ON jobs ${definition}`, [name]);
  await knex.raw('CREATE STATISTICS IF NOT EXISTS jobs_task_arn_hash ON (hashtext(task_arn)) FROM jobs');
  await knex.raw('ANALYZE jobs');
  await knex.raw('DROP INDEX IF EXISTS jobs_task_arn');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX IF NOT EXISTS jobs_task_arn ON jobs USING hash (task_arn)');
  for (const [name] of TASK_ARN_INDEXES) await knex.raw('DROP INDEX IF EXISTS ??', [name]);
  await knex.raw('DROP STATISTICS IF EXISTS jobs_task_arn_hash');
}
