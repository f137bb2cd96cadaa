/**
 * What a sync round reads and marks in `jobs`: the stored state of listed
 * jobs, "still seen" marks, GONE, and the array parents still open.
 */
import type { Knex } from 'knex';
import { TERMINAL_STATUSES } from '../../domain/jobStatus';
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
>;

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
] as const;

export async function getJobStates(db: Knex, ids: string[]): Promise<Map<string, JobState>> {
  const states = new Map<string, JobState>();
  if (ids.length === 0) return states;
  const rows: JobState[] = await db('jobs')
    .select(...JOB_STATE_COLUMNS)
    .whereRaw('job_id = ANY(?::varchar[])', [ids]);
  for (const row of rows) states.set(row.job_id, row);
  return states;
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
    .whereNotIn('status', TERMINAL_STATUSES)
    .whereRaw('COALESCE(last_seen_at, last_updated) < ?', [cutoff])
    .update({ status: 'GONE', last_updated: db.fn.now() }, ['job_id']);
  return rows.map((r) => r.job_id).sort();
}

export async function listOpenArrayParents(db: Knex, queues: string[]): Promise<string[]> {
  if (queues.length === 0) return [];
  const rows: { job_id: string }[] = await whereArrayParent(db('jobs').select('job_id'))
    .whereRaw('job_queue = ANY(?::text[])', [queues])
    .whereNotIn('status', TERMINAL_STATUSES)
    .orderBy('job_id');
  return rows.map((r) => r.job_id);
}
