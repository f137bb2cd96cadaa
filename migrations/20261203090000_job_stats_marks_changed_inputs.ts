import type { Knex } from 'knex';

/**
 * The stats rollup's UPDATE trigger (20261203060000_job_stats_rollup) marks
 * only what an update can have changed in the stats.
 *
 * It marked both versions' 5-minute buckets of every updated row that ran
 * and the array parent of every updated child. A job's stats depend only on
 * its run start, stop, status, queue, vCPUs, memory, task ARN (instance
 * seconds), whether it is an array parent (array_parent_id, the size in
 * array_properties) and, for a parent, whether children point at it
 * (src/store/stats.ts). Most updates touch none of those for the stats: a
 * job waiting (SUBMITTED → PENDING → RUNNABLE → STARTING, no run start), a
 * running one's reason or log stream, a parent's status summary. Now a row
 * leaves marks only when one of those differs between its old and new
 * version, and a parent only when a child's array_parent_id changes.
 *
 * Old and new rows are paired by job_id; a row without a partner (its
 * job_id changed) counts as changed, so nothing is missed. The function
 * keeps its name: the trigger stays as it is, on a Go database adopted or not.
 */

const BUCKET5 = (t: string) => `(floor(extract(epoch FROM ${t}.run_started_at) / 300) * 300)::bigint`;

/** What the stats read of a row (src/store/stats.ts, JOB_USAGE, JOB_RUNTIME, ARRAY_PARENT_WITH_CHILDREN). */
const STATS_INPUTS = (t: string) =>
  `(${['run_started_at', 'stopped_at', 'status', 'job_queue', 'vcpus', 'vcpus_exact', 'memory', 'task_arn', 'array_parent_id']
    .map((c) => `${t}.${c}`)
    .join(', ')}, ${t}.array_properties->>'size')`;

const MARK_CHANGED_INPUTS = `
  CREATE OR REPLACE FUNCTION job_stats_mark_updated_jobs() RETURNS trigger AS $body$
  BEGIN
    INSERT INTO job_stats_dirty (bucket, job_id)
      SELECT DISTINCT m.bucket, m.job_id
      FROM old_jobs o FULL JOIN new_jobs n ON n.job_id = o.job_id
      CROSS JOIN LATERAL (VALUES
        (${BUCKET5('o')}, NULL::varchar),
        (${BUCKET5('n')}, NULL),
        (NULL, CASE WHEN o.array_parent_id IS DISTINCT FROM n.array_parent_id THEN o.array_parent_id END),
        (NULL, CASE WHEN o.array_parent_id IS DISTINCT FROM n.array_parent_id THEN n.array_parent_id END)
      ) m (bucket, job_id)
      WHERE ${STATS_INPUTS('o')} IS DISTINCT FROM ${STATS_INPUTS('n')}
        AND (m.bucket IS NOT NULL OR m.job_id IS NOT NULL);
    RETURN NULL;
  END;
  $body$ LANGUAGE plpgsql`;

/** The function as 20261203060000_job_stats_rollup defined it. */
const MARK_EVERY_UPDATE = `
  CREATE OR REPLACE FUNCTION job_stats_mark_updated_jobs() RETURNS trigger AS $body$
  BEGIN
    INSERT INTO job_stats_dirty (bucket, job_id)
      SELECT ${BUCKET5('old_jobs')}, NULL::varchar FROM old_jobs WHERE run_started_at IS NOT NULL
      UNION
      SELECT ${BUCKET5('new_jobs')}, NULL FROM new_jobs WHERE run_started_at IS NOT NULL
      UNION
      SELECT NULL, array_parent_id FROM new_jobs WHERE array_parent_id IS NOT NULL
      UNION
      SELECT NULL, array_parent_id FROM old_jobs WHERE array_parent_id IS NOT NULL;
    RETURN NULL;
  END;
  $body$ LANGUAGE plpgsql`;

/** For bench:store, which times both bodies in the same run. */
export const JOB_STATS_MARK_UPDATED = { changedInputs: MARK_CHANGED_INPUTS, everyUpdate: MARK_EVERY_UPDATE };

export async function up(knex: Knex): Promise<void> {
  await knex.raw(MARK_CHANGED_INPUTS);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(MARK_EVERY_UPDATE);
}
