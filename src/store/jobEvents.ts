/**
 * Pipeline-side writes to `jobs` that the generic upsert does not cover:
 * applying job state change events with an ordering guard, and the
 * "which jobs do we still believe are active" lookup of the sync tasks.
 */
import type { Knex } from 'knex';
import { progressOf, STATUS_RANK, TERMINAL_STATUSES } from '../domain/jobStatus';
import type { MirroredJob } from '../types';
// Columns written from an event: the same set as the sync upsert.
import { MIRRORED_NAMES, MIRRORED_UPDATABLE, mirroredBatchJson, mirroredBatchRecords, mirroredFieldsDiffer } from './jobs/upsert';

/** SQL: domain's STATUS_RANK of the status column `col` (0 for GONE or anything unknown). */
export const STATUS_RANK_SQL = (col: string) =>
  `(CASE ${col} ${Object.entries(STATUS_RANK)
    .map(([status, rank]) => `WHEN '${status}' THEN ${rank}`)
    .join(' ')} ELSE 0 END)`;

/**
 * Events for jobs of activated queues only (others would never be reconciled).
 * An existing row is rewritten only when the event is at least as far along
 * and something mirrored differs; termination_requested is left alone.
 */
const GUARDED_UPSERT_SQL = `
  INSERT INTO jobs (${MIRRORED_NAMES.join(', ')}, last_updated, last_seen_at)
  SELECT ${MIRRORED_NAMES.map((c) => `r.${c}`).join(', ')}, now(), now()
  FROM (${mirroredBatchRecords('?')}) r
  WHERE r.job_queue IN (SELECT job_queue FROM activated_job_queues)
  ORDER BY r.job_id
  ON CONFLICT (job_id) DO UPDATE SET
    ${MIRRORED_UPDATABLE.map((c) => `${c} = EXCLUDED.${c}`).join(',\n    ')},
    last_updated = now(),
    last_seen_at = now()
  WHERE (EXCLUDED.attempts, ${STATUS_RANK_SQL('EXCLUDED.status')}) >= (jobs.attempts, ${STATUS_RANK_SQL('jobs.status')})
    AND ${mirroredFieldsDiffer('jobs', 'EXCLUDED')}
  RETURNING job_id`;

export interface JobEventRow {
  job: MirroredJob;
  /** The event's own time (EventBridge `time`), breaks ties inside one batch. */
  eventTime: number;
}

/** Keeps, per job, the most advanced event (ties: the latest event time, then the later one received). */
export function latestPerJob(rows: JobEventRow[]): MirroredJob[] {
  const best = new Map<string, JobEventRow>();
  for (const row of rows) {
    const prev = best.get(row.job.job_id);
    if (!prev || compareEvents(row, prev) >= 0) best.set(row.job.job_id, row);
  }
  // Rows locked in id order: concurrent batches of overlapping jobs cannot deadlock.
  return [...best.values()].map((r) => r.job).sort((a, b) => (a.job_id < b.job_id ? -1 : a.job_id > b.job_id ? 1 : 0));
}

function compareEvents(a: JobEventRow, b: JobEventRow): number {
  const [aa, ar] = progressOf(a.job);
  const [ba, br] = progressOf(b.job);
  return aa - ba || ar - br || a.eventTime - b.eventTime;
}

/** Applies a batch of events in one statement; returns the ids of rows written. */
export async function applyJobEventRows(db: Knex, rows: JobEventRow[]): Promise<string[]> {
  const jobs = latestPerJob(rows);
  if (jobs.length === 0) return [];
  const result = await db.raw<{ rows: { job_id: string }[] }>(GUARDED_UPSERT_SQL, [mirroredBatchJson(jobs)]);
  return result.rows.map((r) => r.job_id);
}

/**
 * Ids of the jobs of a queue our mirror still believes are active: top-level
 * jobs (array parents included, array children excluded), for a sync task to
 * describe those AWS no longer lists as active.
 */
export async function listNonTerminalTopLevelJobIds(db: Knex, queue: string): Promise<string[]> {
  const rows: { job_id: string }[] = await db('jobs')
    .select('job_id')
    .where('job_queue', queue)
    .whereNull('array_parent_id')
    .whereNotIn('status', TERMINAL_STATUSES);
  return rows.map((r) => r.job_id);
}
