/**
 * Pipeline-side writes to `jobs` that the generic upsert does not cover:
 * applying job state change events with an ordering guard, and the lookups
 * that tell a sync task which jobs to describe besides the listed ones.
 */
import type { Knex } from 'knex';
import { ACTIVE_STATUSES, progressOf, STATUS_RANK, TERMINAL_STATUSES, type AwsJobStatus } from '../domain/jobStatus';
import type { JobDependencyLink, MirroredJob } from '../types';
import { byJobId, DEPENDENCY_CTES, MIRRORED_NAMES, MIRRORED_UPDATABLE, mirroredBatchJson, mirroredBatchRecords, mirroredFieldsDiffer } from './jobs/upsert';

/** SQL: domain's STATUS_RANK of the status column `col` (0 for GONE or anything unknown). */
export const STATUS_RANK_SQL = (col: string) =>
  `(CASE ${col} ${Object.entries(STATUS_RANK)
    .map(([status, rank]) => `WHEN '${status}' THEN ${rank}`)
    .join(' ')} ELSE 0 END)`;

/**
 * What an event may write. Events are hints: they move a job's status (and
 * its times, reason, exit code, attempts) forward; everything that drives an
 * action or a read (timeout, log group and stream, task ARN, resources,
 * definition, queue) comes only from DescribeJobs. Name, queue, creation time
 * and array position only start the row of a job not mirrored yet, which
 * stays marked for describing until a sync round has described it.
 */
export interface JobEventFields {
  job_id: string;
  status: AwsJobStatus;
  status_reason: string | null;
  /** ISO-8601 times. */
  run_started_at: string | null;
  stopped_at: string | null;
  exitcode: number | null;
  attempts: number;
  job_name: string;
  job_queue: string;
  created_at: string;
  array_parent_id: string | null;
  array_index: number | null;
}

const EVENT_COLUMNS: readonly (readonly [keyof JobEventFields, string])[] = [
  ['job_id', 'varchar(64)'],
  ['status', 'varchar(16)'],
  ['status_reason', 'text'],
  ['run_started_at', 'timestamptz'],
  ['stopped_at', 'timestamptz'],
  ['exitcode', 'integer'],
  ['attempts', 'integer'],
  ['job_name', 'text'],
  ['job_queue', 'text'],
  ['created_at', 'timestamptz'],
  ['array_parent_id', 'varchar(64)'],
  ['array_index', 'integer'],
];
/** The columns an event rewrites on a row that exists. */
const EVENT_UPDATABLE = ['status', 'status_reason', 'run_started_at', 'stopped_at', 'exitcode', 'attempts'] as const;
const EVENT_NAMES = EVENT_COLUMNS.map(([c]) => c);
/** NOT NULL columns of the Go schema that only a describe can fill: placeholders until then. */
const UNDESCRIBED = { job_definition: "''", image: "''", vcpus: '0', memory: '0', timeout: '-1', command_line: "'[]'" };

/**
 * Events for jobs of activated queues only (others would never be reconciled).
 * An existing row is rewritten only when the event is at least as far along
 * and its status fields differ; nothing else of it is touched.
 */
const GUARDED_EVENT_SQL = `
  INSERT INTO jobs (${EVENT_NAMES.join(', ')}, ${Object.keys(UNDESCRIBED).join(', ')}, needs_describe, last_updated)
  SELECT ${EVENT_NAMES.map((c) => `r.${c}`).join(', ')}, ${Object.values(UNDESCRIBED).join(', ')}, true, now()
  FROM json_to_recordset(?::json) AS r(${EVENT_COLUMNS.map(([c, t]) => `${c} ${t}`).join(', ')})
  WHERE r.job_queue IN (SELECT job_queue FROM activated_job_queues)
  ORDER BY r.job_id COLLATE "C"
  ON CONFLICT (job_id) DO UPDATE SET
    ${EVENT_UPDATABLE.map((c) => `${c} = EXCLUDED.${c}`).join(',\n    ')},
    needs_describe = true,
    last_updated = now()
  WHERE jobs.job_queue IN (SELECT job_queue FROM activated_job_queues)
    AND (EXCLUDED.attempts, ${STATUS_RANK_SQL('EXCLUDED.status')}) >= (jobs.attempts, ${STATUS_RANK_SQL('jobs.status')})
    AND (${EVENT_UPDATABLE.map((c) => `jobs.${c}`).join(', ')}) IS DISTINCT FROM (${EVENT_UPDATABLE.map((c) => `EXCLUDED.${c}`).join(', ')})
  RETURNING job_id`;

export interface JobEventRow {
  fields: JobEventFields;
  /** The event's own time (EventBridge `time`), breaks ties inside one batch. */
  eventTime: number;
}

/** Keeps, per job, the most advanced event (ties: the latest event time, then the later one received). */
export function latestPerJob(rows: JobEventRow[]): JobEventFields[] {
  const best = new Map<string, JobEventRow>();
  for (const row of rows) {
    const prev = best.get(row.fields.job_id);
    if (!prev || compareEvents(row, prev) >= 0) best.set(row.fields.job_id, row);
  }
  // Rows locked in id order (byte order, as upsertJobs): concurrent batches of overlapping jobs cannot deadlock.
  return [...best.values()].map((r) => r.fields).sort(byJobId);
}

function compareEvents(a: JobEventRow, b: JobEventRow): number {
  const [aa, ar] = progressOf(a.fields);
  const [ba, br] = progressOf(b.fields);
  return aa - ba || ar - br || a.eventTime - b.eventTime;
}

/** Applies a batch of events in one statement; returns the ids of rows written. */
export async function applyJobEventRows(db: Knex, rows: JobEventRow[]): Promise<string[]> {
  const fields = latestPerJob(rows);
  if (fields.length === 0) return [];
  const result = await db.raw<{ rows: { job_id: string }[] }>(GUARDED_EVENT_SQL, [JSON.stringify(fields)]);
  return result.rows.map((r) => r.job_id);
}

/**
 * Ids of a queue's rows that events wrote since DescribeJobs last confirmed
 * them (array children included), for a sync task to describe.
 */
export async function listJobsNeedingDescribe(db: Knex, queue: string): Promise<string[]> {
  const rows: { job_id: string }[] = await db('jobs').select('job_id').where({ job_queue: queue, needs_describe: true });
  return rows.map((r) => r.job_id);
}

/** Rows a describe found nothing for: not marked for describing any more (they keep what events wrote). */
export async function clearNeedsDescribe(db: Knex, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await db('jobs').whereRaw('job_id = ANY(?::varchar[])', [ids]).where('needs_describe', true).update({ needs_describe: false });
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
    .whereIn('status', ACTIVE_STATUSES);
  return rows.map((r) => r.job_id);
}

/**
 * A job description an SQS EventBridge event carried (AWS's own job detail),
 * mapped as a describe maps it, with its dependency set and the event's time.
 */
export interface JobDetailEventRow {
  job: MirroredJob;
  dependencies: readonly JobDependencyLink[];
  eventTime: number;
}

/** SQL: row `a` is at least as far along as row `b` (more attempts first, then the status order). */
const atLeastAsFar = (a: string, b: string) =>
  `(COALESCE(${a}.attempts, 0), ${STATUS_RANK_SQL(`${a}.status`)}) >= (COALESCE(${b}.attempts, 0), ${STATUS_RANK_SQL(`${b}.status`)})`;

/**
 * The describe's upsert (store/jobs/upsert.ts) with the events' ordering
 * guard: a row is written only for an activated queue, when the event is at
 * least as far along as the row and some mirrored field differs (or the row
 * holds only a hint's placeholders). Written rows are marked `event_written`
 * (not confirmed by AWS's API) and no longer `needs_describe`: they hold the
 * whole description. A job's dependency set is written with its first
 * description, as a describe writes it.
 */
const guardedDetailSql = (withDependencies: boolean) => `
  WITH input AS (
    ${mirroredBatchRecords('?', { dependencies: withDependencies })}
  ), changed AS (
    SELECT input.*, (jobs.job_id IS NULL OR jobs.needs_describe) AS first_described
    FROM input LEFT JOIN jobs ON jobs.job_id = input.job_id
    WHERE input.job_queue IN (SELECT job_queue FROM activated_job_queues)
      AND (jobs.job_id IS NULL OR (
        jobs.job_queue IN (SELECT job_queue FROM activated_job_queues)
        AND ${atLeastAsFar('input', 'jobs')}
        AND (jobs.needs_describe OR ${mirroredFieldsDiffer('jobs', 'input')})))
  )${withDependencies ? DEPENDENCY_CTES : ''}
  INSERT INTO jobs (${MIRRORED_NAMES.join(', ')}, event_written, last_updated)
  SELECT ${MIRRORED_NAMES.map((c) => `changed.${c}`).join(', ')}, true, now()
  FROM changed
  ORDER BY changed.job_id COLLATE "C"
  ON CONFLICT (job_id) DO UPDATE SET
    ${MIRRORED_UPDATABLE.map((c) => `${c} = EXCLUDED.${c}`).join(',\n    ')},
    needs_describe = false,
    event_written = true,
    last_updated = now()
  WHERE ${atLeastAsFar('EXCLUDED', 'jobs')}
    AND (jobs.needs_describe OR ${mirroredFieldsDiffer('jobs', 'EXCLUDED')})
  RETURNING job_id`;

const GUARDED_DETAIL_SQL = guardedDetailSql(false);
const GUARDED_DETAIL_WITH_DEPENDENCIES_SQL = guardedDetailSql(true);

/** Keeps, per job, the most advanced description (ties: the latest event time, then the later one received), in id order. */
export function latestDetailPerJob(rows: readonly JobDetailEventRow[]): JobDetailEventRow[] {
  const best = new Map<string, JobDetailEventRow>();
  for (const row of rows) {
    const prev = best.get(row.job.job_id);
    if (!prev) {
      best.set(row.job.job_id, row);
      continue;
    }
    const [aa, ar] = progressOf(row.job);
    const [ba, br] = progressOf(prev.job);
    if ((aa - ba || ar - br || row.eventTime - prev.eventTime) >= 0) best.set(row.job.job_id, row);
  }
  return [...best.values()].sort((a, b) => byJobId(a.job, b.job));
}

/** Writes a batch of SQS events' job descriptions in one guarded statement; returns the ids of rows written. */
export async function applyJobDetailRows(db: Knex, rows: readonly JobDetailEventRow[]): Promise<string[]> {
  const latest = latestDetailPerJob(rows);
  if (latest.length === 0) return [];
  // Only non-empty sets: a job's dependsOn never changes after SubmitJob, and a row an event
  // writes first has none stored, so an empty set has nothing to clear (most jobs; the
  // dependency statements then stay out of the events' hot path).
  const dependencies = new Map(latest.filter((r) => r.dependencies.length > 0).map((r) => [r.job.job_id, r.dependencies]));
  const payload = mirroredBatchJson(
    latest.map((r) => r.job),
    dependencies,
  );
  const sql = dependencies.size > 0 ? GUARDED_DETAIL_WITH_DEPENDENCIES_SQL : GUARDED_DETAIL_SQL;
  const result = await db.raw<{ rows: { job_id: string }[] }>(sql, [payload]);
  return result.rows.map((r) => r.job_id);
}
