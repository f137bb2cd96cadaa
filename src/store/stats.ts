/**
 * Usage statistics (GET /api/v1/jobs/stats): per queue, status and time
 * bucket of run start, the vCPU-, memory- and instance-seconds jobs used.
 *
 * runtime = COALESCE(stopped_at, now()) - run_started_at (never negative).
 * instance_seconds is the runtime of jobs whose task is known to have run on
 * an EC2 instance (a task_arns_to_instance_info row); Fargate jobs and jobs
 * whose placement we never saw count 0 there.
 */
import type { Knex } from 'knex';
import type { StatsQuery, StatsRow } from '../types';

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

/** Rollup levels of job_stats_rollup (migration 20261203010000), widest first. */
const LEVELS = [DAY, HOUR, 5 * MINUTE] as const;

interface Piece {
  level: number;
  from: number;
  to: number;
}

/**
 * [from, to) (multiples of 5 minutes) as rollup pieces: whole days, then
 * whole hours, then 5-minute buckets at the edges, of the levels that fit in
 * one output bucket (`interval`).
 */
export function rollupPieces(from: number, to: number, interval: number): Piece[] {
  const levels = LEVELS.filter((l) => interval % l === 0);
  const split = (a: number, b: number, rest: readonly number[]): Piece[] => {
    const [level, ...finer] = rest;
    if (level === undefined || a >= b) return [];
    const first = Math.ceil(a / level) * level;
    const last = Math.floor(b / level) * level;
    if (first >= last) return split(a, b, finer);
    return [...split(a, first, finer), { level, from: first, to: last }, ...split(last, b, finer)];
  };
  return split(from, to, levels);
}

interface SqlPart {
  sql: string;
  bindings: Knex.RawBinding[];
}

/**
 * The filters of a stats query over rows of (job_queue, status, array_parent):
 * one WHERE for the rollup's rows and the jobs read directly alike.
 */
function statsFilters(q: StatsQuery): SqlPart {
  const parts: string[] = ['TRUE'];
  const bindings: Knex.RawBinding[] = [];
  if (q.queues.length > 0) {
    parts.push('c.job_queue = ANY(?::text[])');
    bindings.push(q.queues);
  }
  if (q.statuses.length > 0) {
    parts.push('c.status = ANY(?::text[])');
    bindings.push(q.statuses);
  }
  return { sql: parts.join(' AND '), bindings };
}

/** What one job adds: jobs alias j, the query's now as epoch seconds bound first. */
const JOB_CONTRIBUTION = `
        j.job_queue,
        j.status::text AS status,
        ((j.array_properties ->> 'size') IS NOT NULL AND j.array_parent_id IS NULL) AS array_parent,
        (floor(extract(epoch FROM j.run_started_at) / ?) * ?)::bigint AS bucket,
        1 AS job_count,
        COALESCE(j.vcpus_exact, j.vcpus)::float8 * rt.runtime AS vcpu_seconds,
        j.memory::float8 * rt.runtime AS memory_seconds,
        CASE WHEN EXISTS (SELECT 1 FROM task_arns_to_instance_info t WHERE t.task_arn = j.task_arn)
          THEN rt.runtime ELSE 0 END AS instance_seconds
      FROM jobs j
      CROSS JOIN LATERAL (SELECT GREATEST(extract(epoch FROM COALESCE(j.stopped_at, to_timestamp(?::float8)) - j.run_started_at), 0)::float8
        AS runtime) rt`;

const GROUPED = (from: string, filters: string) => `
    SELECT c.job_queue, c.status, c.bucket AS "timestamp",
      SUM(c.vcpu_seconds)::float8 AS vcpu_seconds,
      SUM(c.memory_seconds)::float8 AS memory_seconds,
      SUM(c.instance_seconds)::float8 AS instance_seconds,
      SUM(c.job_count)::int AS job_count
    FROM (${from}) c
    WHERE ${filters}
    GROUP BY c.job_queue, c.status, c.bucket
    HAVING SUM(c.job_count) > 0
    ORDER BY c.bucket, c.job_queue, c.status`;

function finish(rows: Omit<StatsRow, 'interval'>[], interval: number): StatsRow[] {
  return rows.map((row) => ({ ...row, timestamp: Number(row.timestamp), interval }));
}

async function dbNow(db: Knex): Promise<number> {
  const r = await db.raw<{ rows: { now: number }[] }>('SELECT extract(epoch FROM now())::float8 AS now');
  return Number(r.rows[0].now);
}

/**
 * Jobs that started running in [start, end), bucketed on epoch-aligned
 * boundaries. Whole 5-minute buckets that ended before now come from
 * job_stats_rollup (days and hours of it where they fit in a bucket); the
 * minutes at the edges and since the last whole bucket are read from jobs.
 * `now` (epoch seconds) is what unfinished jobs run up to (default: the
 * database's now).
 */
export async function jobStats(db: Knex, q: StatsQuery, now?: number): Promise<StatsRow[]> {
  if (!(q.end.getTime() > q.start.getTime())) return [];
  const interval = statsInterval(q.start, q.end);
  const at = now ?? (await dbNow(db));
  const start = q.start.getTime() / 1000;
  const end = q.end.getTime() / 1000;
  const from = Math.ceil(start / 300) * 300;
  const to = Math.floor(Math.min(end, at) / 300) * 300;
  const pieces = from < to ? rollupPieces(from, to, interval) : [];
  // Read from jobs: [start, end) less the rollup's [from, to).
  const direct =
    pieces.length > 0
      ? {
          sql: '(j.run_started_at >= ? AND j.run_started_at < to_timestamp(?)) OR (j.run_started_at >= to_timestamp(?) AND j.run_started_at < ?)',
          bindings: [q.start, from, to, q.end],
        }
      : { sql: 'j.run_started_at >= ? AND j.run_started_at < ?', bindings: [q.start, q.end] };
  const rollup = pieces.length > 0
    ? {
        sql: `
      UNION ALL
      SELECT r.job_queue, r.status, r.array_parent, (floor(r.bucket / ?) * ?)::bigint AS bucket,
        r.n AS job_count,
        (r.closed_vcpu_s + ?::numeric * r.open_vcpus - r.open_vcpus_start)::float8 AS vcpu_seconds,
        (r.closed_mem_s + ?::numeric * r.open_mem - r.open_mem_start)::float8 AS memory_seconds,
        (r.closed_inst_s + ?::numeric * r.open_inst - r.open_inst_start)::float8 AS instance_seconds
      FROM job_stats_rollup r
      WHERE ${pieces.map(() => '(r.level = ? AND r.bucket >= ? AND r.bucket < ?)').join(' OR ')}`,
        bindings: [interval, interval, at, at, at, ...pieces.flatMap((p) => [p.level, p.from, p.to])],
      }
    : { sql: '', bindings: [] };
  const filters = statsFilters(q);
  const sql = GROUPED(`
      SELECT ${JOB_CONTRIBUTION}
      WHERE ${direct.sql}
      ${rollup.sql}`, filters.sql);
  const result = await db.raw<{ rows: Omit<StatsRow, 'interval'>[] }>(sql, [
    interval,
    interval,
    at,
    ...direct.bindings,
    ...rollup.bindings,
    ...filters.bindings,
  ]);
  return finish(result.rows, interval);
}

/**
 * The same answer computed from every job that ran in the range (what
 * jobStats did before the rollup): the reference its tests and the bench
 * compare against.
 */
export async function jobStatsFullScan(db: Knex, q: StatsQuery, now?: number): Promise<StatsRow[]> {
  if (!(q.end.getTime() > q.start.getTime())) return [];
  const interval = statsInterval(q.start, q.end);
  const at = now ?? (await dbNow(db));
  const filters = statsFilters(q);
  const sql = GROUPED(`SELECT ${JOB_CONTRIBUTION} WHERE j.run_started_at >= ? AND j.run_started_at < ?`, filters.sql);
  const result = await db.raw<{ rows: Omit<StatsRow, 'interval'>[] }>(sql, [
    interval,
    interval,
    at,
    q.start,
    q.end,
    ...filters.bindings,
  ]);
  return finish(result.rows, interval);
}
