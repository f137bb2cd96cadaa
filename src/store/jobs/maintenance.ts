/**
 * Maintenance queries over `jobs`: termination marks, timed-out jobs, jobs
 * stuck in STARTING per instance, the active demand per queue (scaling, job
 * summary log) and the cleaner's batched delete.
 */
import type { Knex } from 'knex';
import { ACTIVE_STATUSES, TERMINAL_STATUSES } from '../../domain/jobStatus';
import type { JobRow, JobSummaryCounts } from '../../types';
import { whereArrayParent } from './lookups';
import { deleteUnusedNames, restoreNamesInUse } from './names';

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
    .whereIn('status', ACTIVE_STATUSES)
    .where('termination_requested', false)
    .whereRaw("created_at + timeout * interval '1 second' < ?", [now])
    .orderBy('created_at');
}

/** A STARTING job of the mirror on an instance ECS placed its task on: what the terminator asks AWS about. */
export interface StuckStartingCandidate {
  job_id: string;
  job_queue: string;
  task_arn: string;
  instance_id: string;
  /** The instance's ECS cluster (from the ECS reconciliation); null while the instance has no row yet. */
  ecs_cluster_arn: string | null;
}

/**
 * Jobs the mirror has in STARTING, created before the cutoff (a job STARTING
 * for longer than stuck_starting_seconds was created longer ago than that),
 * with the instance their task runs on. Candidates only: the terminator
 * confirms each with AWS before acting.
 */
export async function findStuckStartingCandidates(db: Knex, createdBefore: Date): Promise<StuckStartingCandidate[]> {
  return db('jobs')
    .join('task_arns_to_instance_info as t', 't.task_arn', 'jobs.task_arn')
    .leftJoin('instances as i', 'i.instance_id', 't.instance_id')
    .select('jobs.job_id', 'jobs.job_queue', 'jobs.task_arn', 't.instance_id', 'i.ecs_cluster_arn')
    .where('jobs.status', 'STARTING')
    .where('jobs.created_at', '<', createdBefore)
    .orderBy([{ column: 't.instance_id' }, { column: 'jobs.job_id' }]);
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
 * Names of deleted jobs gathered before they are pruned: each distinct name
 * is probed once per prune, and the jobs of a name are spread over many
 * batches, so pruning per batch probed the same names again and again.
 */
const NAMES_PER_PRUNE = 50_000;

/** What one run of the cleaner's delete removed. */
export interface DeletedJobs {
  jobs: number;
  taskInfo: number;
  /** Names no job has any more, out of job_names. */
  names: number;
  /** A writer stayed open past the name prune's wait (restoreNamesInUse). */
  writersStillOpen: boolean;
}

/**
 * Deletes terminal jobs last updated before the cutoff, with the instance info
 * of their tasks, their job_status_events rows and what they waited on
 * (job_dependencies; a row naming a deleted job as the one waited on belongs
 * to the job still waiting and stays), in batches so the cleaner never holds
 * long locks; then the names left without a job.
 */
export async function deleteJobsOlderThan(db: Knex, cutoff: Date): Promise<DeletedJobs> {
  let jobs = 0;
  let taskInfo = 0;
  const pruned: string[] = [];
  const deletedNames = new Set<string>();
  const pruneDeletedNames = async () => {
    pruned.push(...(await deleteUnusedNames(db, [...deletedNames])));
    deletedNames.clear();
  };
  for (;;) {
    const result = await db.raw<{ rows: { jobs: number; task_info: number; names: string[] | null }[] }>(
      `WITH doomed AS (
         SELECT job_id FROM jobs
         WHERE status = ANY(?::text[]) AND last_updated < ?
         LIMIT ?
       ), deleted AS (
         DELETE FROM jobs WHERE job_id IN (SELECT job_id FROM doomed) RETURNING job_id, task_arn, job_name
       ), deleted_events AS (
         DELETE FROM job_status_events WHERE job_id IN (SELECT job_id FROM deleted)
       ), deleted_dependencies AS (
         DELETE FROM job_dependencies WHERE job_id IN (SELECT job_id FROM deleted)
       ), deleted_info AS (
         DELETE FROM task_arns_to_instance_info
         WHERE task_arn IN (SELECT task_arn FROM deleted WHERE task_arn IS NOT NULL)
         RETURNING 1
       )
       SELECT (SELECT COUNT(*) FROM deleted)::int AS jobs, (SELECT COUNT(*) FROM deleted_info)::int AS task_info,
              (SELECT array_agg(DISTINCT job_name) FROM deleted) AS names`,
      [[...TERMINAL_STATUSES], cutoff, DELETE_BATCH],
    );
    const row = result.rows[0] ?? { jobs: 0, task_info: 0, names: null };
    jobs += row.jobs;
    taskInfo += row.task_info;
    for (const name of row.names ?? []) deletedNames.add(name);
    if (deletedNames.size >= NAMES_PER_PRUNE) await pruneDeletedNames();
    if (row.jobs < DELETE_BATCH) break;
  }
  await pruneDeletedNames();
  const names = await restoreNamesInUse(db, pruned);
  return { jobs, taskInfo, names: names.gone, writersStillOpen: names.writersStillOpen };
}
