/**
 * Maintenance queries over `jobs`: termination marks, timed-out jobs, jobs
 * stuck in STARTING per instance, the active demand per queue (scaling, job
 * summary log) and the cleaner's batched delete.
 */
import type { Knex } from 'knex';
import { ACTIVE_STATUSES, TERMINAL_STATUSES } from '../../domain/jobStatus';
import type { JobRow, JobSummaryCounts } from '../../types';
import { whereArrayParent } from './lookups';

export async function markTerminationRequested(db: Knex, ids: string[]): Promise<number> {
  if (ids.length === 0) return 0;
  return db('jobs').whereRaw('job_id = ANY(?::varchar[])', [ids]).update({ termination_requested: true });
}

/** PYBATCH_TIMEOUT counts from creation; -1/NULL mean no timeout. */
export async function findTimedOutJobs(
  db: Knex,
  now: Date,
): Promise<Pick<JobRow, 'job_id' | 'job_queue' | 'timeout' | 'created_at'>[]> {
  return db('jobs')
    .select('job_id', 'job_queue', 'timeout', 'created_at')
    .where('timeout', '>', 0)
    .whereNotIn('status', TERMINAL_STATUSES)
    .where('termination_requested', false)
    .whereRaw("created_at + timeout * interval '1 second' < ?", [now])
    .orderBy('created_at');
}

export async function findStuckStartingInstances(
  db: Knex,
  cutoff: Date,
): Promise<{ instance_id: string; job_ids: string[] }[]> {
  return db('jobs')
    .join('task_arns_to_instance_info as t', 't.task_arn', 'jobs.task_arn')
    .select('t.instance_id', db.raw('array_agg(DISTINCT jobs.job_id ORDER BY jobs.job_id) AS job_ids'))
    .where('jobs.status', 'STARTING')
    .where('jobs.last_updated', '<', cutoff)
    .groupBy('t.instance_id')
    .orderBy('t.instance_id');
}

/**
 * vCPUs wanted per queue by jobs in SUBMITTED..RUNNING. Array parents are left
 * out: their children are mirrored rows of their own and carry the demand.
 */
export async function activeVcpusByQueue(db: Knex, queues: string[]): Promise<Map<string, number>> {
  const totals = new Map<string, number>(queues.map((q) => [q, 0]));
  if (queues.length === 0) return totals;
  const rows: { job_queue: string; vcpus: number | null }[] = await db('jobs')
    .select('job_queue', db.raw('SUM(COALESCE(vcpus_exact, vcpus))::float8 AS vcpus'))
    .whereRaw('job_queue = ANY(?::text[])', [queues])
    .whereIn('status', ACTIVE_STATUSES)
    .whereNot((q) => whereArrayParent(q))
    .groupBy('job_queue');
  for (const row of rows) totals.set(row.job_queue, Number(row.vcpus ?? 0));
  return totals;
}

function emptyCounts(): JobSummaryCounts {
  return { submitted: 0, pending: 0, runnable: 0, starting: 0, running: 0 };
}

export async function countActiveByQueue(db: Knex, queues: string[]): Promise<Map<string, JobSummaryCounts>> {
  const counts = new Map<string, JobSummaryCounts>(queues.map((q) => [q, emptyCounts()]));
  if (queues.length === 0) return counts;
  const rows: { job_queue: string; status: string; n: number }[] = await db('jobs')
    .select('job_queue', 'status', db.raw('COUNT(*)::int AS n'))
    .whereRaw('job_queue = ANY(?::text[])', [queues])
    .whereIn('status', ACTIVE_STATUSES)
    .groupBy('job_queue', 'status');
  for (const row of rows) {
    const c = counts.get(row.job_queue) ?? emptyCounts();
    c[row.status.toLowerCase() as keyof JobSummaryCounts] = Number(row.n);
    counts.set(row.job_queue, c);
  }
  return counts;
}

const DELETE_BATCH = 5000;

/**
 * Deletes terminal jobs last updated before the cutoff, with the instance info
 * of their tasks and their job_status_events rows, in batches so the cleaner
 * never holds long locks. Each batch is one transaction of two statements:
 * the batch's jobs are locked and their task info deleted first, then the
 * jobs; in that order the stats rollup's triggers see each job's instance
 * seconds go while the job is still there (see the job_stats_rollup migration).
 */
export async function deleteJobsOlderThan(db: Knex, cutoff: Date): Promise<{ jobs: number; taskInfo: number }> {
  let jobs = 0;
  let taskInfo = 0;
  for (;;) {
    const row = await db.transaction(async (trx) => {
      const info = await trx.raw<{ rows: { ids: string[] | null; task_info: number }[] }>(
        `WITH doomed AS (
           SELECT job_id, task_arn FROM jobs
           WHERE status = ANY(?::text[]) AND last_updated < ?
           LIMIT ?
           FOR UPDATE
         ), deleted_info AS (
           DELETE FROM task_arns_to_instance_info
           WHERE task_arn IN (SELECT task_arn FROM doomed WHERE task_arn IS NOT NULL)
           RETURNING 1
         )
         SELECT (SELECT array_agg(job_id) FROM doomed) AS ids, (SELECT COUNT(*) FROM deleted_info)::int AS task_info`,
        [[...TERMINAL_STATUSES], cutoff, DELETE_BATCH],
      );
      const { ids, task_info } = info.rows[0] ?? { ids: null, task_info: 0 };
      if (!ids || ids.length === 0) return { jobs: 0, task_info };
      const deleted = await trx.raw<{ rows: { jobs: number }[] }>(
        `WITH deleted AS (
           DELETE FROM jobs WHERE job_id = ANY(?::varchar[]) RETURNING job_id
         ), deleted_events AS (
           DELETE FROM job_status_events WHERE job_id IN (SELECT job_id FROM deleted)
         )
         SELECT COUNT(*)::int AS jobs FROM deleted`,
        [ids],
      );
      return { jobs: deleted.rows[0]?.jobs ?? 0, task_info };
    });
    jobs += row.jobs;
    taskInfo += row.task_info;
    if (row.jobs < DELETE_BATCH) break;
  }
  return { jobs, taskInfo };
}
