/**
 * Usage statistics (GET /api/v1/jobs/stats): per queue, status and time
 * bucket of run start, the vCPU-, memory- and instance-seconds jobs used.
 *
 * runtime = COALESCE(stopped_at, now()) - run_started_at (never negative).
 * instance_seconds is the runtime of jobs whose task is known to have run on
 * an EC2 instance (a task_arns_to_instance_info row); Fargate jobs and jobs
 * whose placement we never saw count 0 there. Array parents whose children
 * are mirrored are left out (their children count). docs/api.md compares
 * these figures with the Go original's.
 */
import type { Knex } from 'knex';
import type { StatsQuery } from '../types';
import type { StatsRow } from '../api/contract';

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Bucket width in seconds for a time span (SPEC section 6). */
export function statsInterval(start: Date, end: Date): number {
  const span = (end.getTime() - start.getTime()) / 1000;
  if (span < HOUR) return 5 * MINUTE;
  if (span < 4 * HOUR) return 15 * MINUTE;
  if (span < 3 * DAY) return HOUR;
  if (span < 30 * DAY) return 6 * HOUR;
  return DAY;
}

/**
 * An array parent whose children are mirrored: its children's runs are the
 * work, and its own row spans them all (counting it too added ~11 % of the
 * demo's vCPU-seconds twice). A parent without mirrored children (rows of an
 * adopted Go database, which never mirrored children) still counts: it is
 * the only record of that work.
 */
export const ARRAY_PARENT_WITH_CHILDREN = `(j.array_parent_id IS NULL AND (j.array_properties->>'size') IS NOT NULL
          AND EXISTS (SELECT 1 FROM jobs c WHERE c.array_parent_id = j.job_id))`;

/** Jobs that started running in [start, end), bucketed on epoch-aligned boundaries. */
export async function jobStats(db: Knex, q: StatsQuery): Promise<StatsRow[]> {
  if (!(q.end.getTime() > q.start.getTime())) return [];
  const interval = statsInterval(q.start, q.end);
  const filters: string[] = [];
  const filterBindings: Knex.RawBinding[] = [];
  if (q.queues.length > 0) {
    filters.push('AND j.job_queue = ANY(?::text[])');
    filterBindings.push(q.queues);
  }
  if (q.statuses.length > 0) {
    filters.push('AND j.status = ANY(?::text[])');
    filterBindings.push(q.statuses);
  }
  const sql = `
    WITH runs AS (
      SELECT
        j.job_queue,
        j.status,
        (floor(extract(epoch FROM j.run_started_at) / ?) * ?)::bigint AS bucket,
        COALESCE(j.vcpus_exact, j.vcpus)::float8 AS vcpus,
        j.memory::float8 AS memory,
        GREATEST(extract(epoch FROM COALESCE(j.stopped_at, now()) - j.run_started_at), 0)::float8 AS runtime,
        EXISTS (SELECT 1 FROM task_arns_to_instance_info t WHERE t.task_arn = j.task_arn) AS on_instance
      FROM jobs j
      WHERE j.run_started_at >= ? AND j.run_started_at < ?
        AND NOT ${ARRAY_PARENT_WITH_CHILDREN}
      ${filters.join('\n      ')}
    )
    SELECT
      job_queue,
      status,
      bucket AS "timestamp",
      SUM(vcpus * runtime)::float8 AS vcpu_seconds,
      SUM(memory * runtime)::float8 AS memory_seconds,
      SUM(CASE WHEN on_instance THEN runtime ELSE 0 END)::float8 AS instance_seconds,
      COUNT(*)::int AS job_count
    FROM runs
    GROUP BY job_queue, status, bucket
    ORDER BY bucket, job_queue, status`;
  const result = await db.raw<{ rows: Omit<StatsRow, 'interval'>[] }>(sql, [
    interval,
    interval,
    q.start,
    q.end,
    ...filterBindings,
  ]);
  return result.rows.map((row) => ({ ...row, timestamp: Number(row.timestamp), interval }));
}
