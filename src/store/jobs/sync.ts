/**
 * What a sync round reads and marks in `jobs`: the stored state of listed
 * jobs, "still seen" marks, GONE, and the array parents still open.
 */
import type { Knex } from 'knex';
import { ACTIVE_STATUSES, TERMINAL_STATUSES } from '../../domain/jobStatus';
import type { JobRow } from '../../types';
import { whereArrayParent } from './lookups';

export type JobState = Pick<
  JobRow,
  | 'job_id'
  | 'status'
  | 'status_reason'
  | 'stopped_at'
  | 'run_started_at'
  | 'exitcode'
  | 'attempts'
  | 'array_properties'
  | 'termination_requested'
> & {
  /** Written from an SQS event's job description and not confirmed since (event_written). */
  event_written: boolean;
  /** The row's version (xmin): a confirmation applies only to the row as it was read. */
  version: string;
};

const JOB_STATE_COLUMNS = [
  'job_id',
  'status',
  'status_reason',
  'stopped_at',
  'run_started_at',
  'exitcode',
  'attempts',
  'array_properties',
  'termination_requested',
  'event_written',
] as const;

export async function getJobStates(db: Knex, ids: string[]): Promise<Map<string, JobState>> {
  const states = new Map<string, JobState>();
  if (ids.length === 0) return states;
  const rows: JobState[] = await db('jobs')
    .select(...JOB_STATE_COLUMNS, db.raw('xmin::text AS version'))
    .whereRaw('job_id = ANY(?::varchar[])', [ids]);
  for (const row of rows) states.set(row.job_id, row);
  return states;
}

/**
 * Rows written from SQS events that a ListJobs summary agreed with: no longer
 * marked, unless written again since they were read (another event).
 */
export async function confirmEventWritten(db: Knex, rows: readonly Pick<JobState, 'job_id' | 'version'>[]): Promise<number> {
  if (rows.length === 0) return 0;
  const sorted = [...rows].sort((a, b) => (a.job_id < b.job_id ? -1 : a.job_id > b.job_id ? 1 : 0));
  const result = await db.raw<{ rowCount: number }>(
    `UPDATE jobs SET event_written = false
     FROM unnest(?::varchar[], ?::text[]) AS v(job_id, version)
     WHERE jobs.job_id = v.job_id AND jobs.event_written AND jobs.xmin::text = v.version`,
    [sorted.map((r) => r.job_id), sorted.map((r) => r.version)],
  );
  return result.rowCount;
}

/** Only non-terminal rows: a finished job needs no "still there" mark. */
export async function touchLastSeen(db: Knex, ids: string[], at: Date): Promise<number> {
  if (ids.length === 0) return 0;
  return db('jobs')
    .whereRaw('job_id = ANY(?::varchar[])', [ids])
    .whereNotIn('status', TERMINAL_STATUSES)
    .update({ last_seen_at: at });
}

export async function markGone(db: Knex, queues: string[], cutoff: Date): Promise<string[]> {
  if (queues.length === 0) return [];
  const rows: { job_id: string }[] = await db('jobs')
    .whereRaw('job_queue = ANY(?::text[])', [queues])
    .whereIn('status', ACTIVE_STATUSES)
    .whereRaw('COALESCE(last_seen_at, last_updated) < ?', [cutoff])
    .update({ status: 'GONE', last_updated: db.fn.now() }, ['job_id']);
  return rows.map((r) => r.job_id).sort();
}

export async function listOpenArrayParents(db: Knex, queues: string[]): Promise<string[]> {
  if (queues.length === 0) return [];
  const rows: { job_id: string }[] = await whereArrayParent(db('jobs').select('job_id'))
    .whereRaw('job_queue = ANY(?::text[])', [queues])
    .whereIn('status', ACTIVE_STATUSES)
    .orderBy('job_id');
  return rows.map((r) => r.job_id);
}
