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
 *
 * Served from job_stats_rollup (sums per 5-minute, hourly, 6-hour and daily bucket,
 * running jobs as sums that give their seconds up to any now;
 * src/store/statsRollup.ts keeps it) for the buckets no write has touched
 * since their last roll-up, and from `jobs` for the rest: the marked buckets
 * and the partial 5-minute buckets at the window's edges. One statement, one
 * snapshot: the answer is what the computation over `jobs` alone
 * (jobStatsFromJobs) gives at that moment.
 */
import type { Knex } from 'knex';
import { withLocalSettings } from './db';
import type { StatsQuery } from '../types';
import type { StatsRow } from '../api/contract';

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** The rollup's finest bucket; every stats interval is a multiple of it. */
export const ROLLUP_STEP = 5 * MINUTE;

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

/** SQL: the 5-minute bucket (epoch seconds) of `alias`'s run start. */
export const bucket5 = (alias: string) => `(floor(extract(epoch FROM ${alias}.run_started_at) / ${ROLLUP_STEP}) * ${ROLLUP_STEP})::bigint`;

/**
 * SQL: whether job `j`'s task ran on an EC2 instance. Compared as bytes
 * (COLLATE "C", the same equality) so the hash index task_arns_task_arn_bytes
 * serves it: a btree probe in the database's collation costs ~4x as much,
 * once per job of every marked bucket (its migration has the figures).
 */
export const ON_INSTANCE = 'EXISTS (SELECT 1 FROM task_arns_to_instance_info t WHERE t.task_arn COLLATE "C" = j.task_arn)';

/** SQL select list: what one job `j` adds to its row of the stats (runtime up to now() while it runs). */
export const JOB_USAGE = `
        COALESCE(j.vcpus_exact, j.vcpus)::float8 * u.runtime AS vcpu_seconds,
        j.memory::float8 * u.runtime AS memory_seconds,
        CASE WHEN ${ON_INSTANCE} THEN u.runtime ELSE 0 END AS instance_seconds`;
export const JOB_RUNTIME = `CROSS JOIN LATERAL (
        SELECT GREATEST(extract(epoch FROM COALESCE(j.stopped_at, now()) - j.run_started_at), 0)::float8 AS runtime) u`;

/**
 * SQL: the 5-minute buckets the marks of `marks` (job_stats_dirty rows)
 * stand for: buckets as they are; array parents and task ARNs resolved to
 * the bucket of their job as the reader sees it. A task's jobs are looked up
 * among running and stopped jobs apart, each through its partial index of
 * the ARNs' hash codes (migration 20261205030000).
 */
export function markedBuckets(marks: string): string {
  const taskJobs = (stopped: string) =>
    `SELECT ${bucket5('j')} FROM ${marks} m JOIN jobs j ON hashtext(j.task_arn) = hashtext(m.task_arn) AND j.task_arn = m.task_arn
     WHERE m.task_arn IS NOT NULL AND j.stopped_at IS ${stopped} AND j.task_arn IS NOT NULL AND j.run_started_at IS NOT NULL`;
  return `
    SELECT m.bucket FROM ${marks} m WHERE m.bucket IS NOT NULL
    UNION ALL
    SELECT ${bucket5('p')} FROM ${marks} m JOIN jobs p ON p.job_id = m.job_id WHERE p.run_started_at IS NOT NULL
    UNION ALL
    ${taskJobs('NULL')}
    UNION ALL
    ${taskJobs('NOT NULL')}`;
}

/**
 * A rollup row's seconds now: its finished jobs' sum, plus its running jobs'
 * (rollup column × (now − bucket) − column_start; src/store/statsRollup.ts).
 */
const RUNNING_UP_TO_NOW = [
  ['vcpu_seconds', 'run_vcpus'],
  ['memory_seconds', 'run_memory'],
  ['instance_seconds', 'run_on_instance'],
] as const;

/** Collects positional bindings while a statement is written: `${p(x)}` puts `?` and remembers x. */
function bindings(): { p: (value: Knex.RawBinding) => string; values: Knex.RawBinding[] } {
  const values: Knex.RawBinding[] = [];
  return { p: (value) => (values.push(value), '?'), values };
}

function filtersOn(alias: string, q: StatsQuery, p: (value: Knex.RawBinding) => string): string {
  const filters: string[] = [];
  if (q.queues.length > 0) filters.push(`AND ${alias}.job_queue = ANY(${p(q.queues)}::text[])`);
  if (q.statuses.length > 0) filters.push(`AND ${alias}.status = ANY(${p(q.statuses)}::text[])`);
  return filters.join(' ');
}

/**
 * Runs a stats statement without JIT and parallel workers. Its estimates for
 * the marked buckets are generic (thousands of rows each), which put its cost
 * above both thresholds: compiling then takes seconds, and starting workers
 * tenths of a second on a busy machine, for a query that runs in
 * milliseconds. In a transaction of its own (a savepoint in the caller's).
 */
function withoutJit<T>(db: Knex, query: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  return withLocalSettings(db, { jit: 'off', max_parallel_workers_per_gather: '0' }, query);
}

function toRows(rows: Omit<StatsRow, 'interval'>[], interval: number): StatsRow[] {
  return rows.map((row) => ({ ...row, timestamp: Number(row.timestamp), interval }));
}

const GROUPED = `
    GROUP BY job_queue, status, "timestamp"
    ORDER BY "timestamp", job_queue, status`;

/**
 * The stats computed from `jobs` alone, job by job (through the
 * jobs_run_started_at index): the definition the rollup must agree with, and
 * the answer for windows without a whole 5-minute bucket.
 */
export async function jobStatsFromJobs(db: Knex, q: StatsQuery): Promise<StatsRow[]> {
  if (!(q.end.getTime() > q.start.getTime())) return [];
  const interval = statsInterval(q.start, q.end);
  const { p, values } = bindings();
  const sql = `
    SELECT j.job_queue, j.status,
      (floor(extract(epoch FROM j.run_started_at) / ${p(interval)}) * ${p(interval)})::bigint AS "timestamp",
      SUM(x.vcpu_seconds)::float8 AS vcpu_seconds, SUM(x.memory_seconds)::float8 AS memory_seconds,
      SUM(x.instance_seconds)::float8 AS instance_seconds, COUNT(*)::int AS job_count
    FROM jobs j ${JOB_RUNTIME}
    CROSS JOIN LATERAL (SELECT ${JOB_USAGE}) x
    WHERE j.run_started_at >= ${p(q.start)} AND j.run_started_at < ${p(q.end)}
      AND NOT ${ARRAY_PARENT_WITH_CHILDREN}
      ${filtersOn('j', q, p)}
    ${GROUPED}`;
  const result = await withoutJit(db, (trx) => trx.raw<{ rows: Omit<StatsRow, 'interval'>[] }>(sql, values));
  return toRows(result.rows, interval);
}

const floorTo = (seconds: number, step: number) => Math.floor(seconds / step) * step;
const ceilTo = (seconds: number, step: number) => Math.ceil(seconds / step) * step;

/** The rollup's bucket widths, each dividing the next (and every stats interval a multiple of the first). */
export const ROLLUP_LEVELS = [ROLLUP_STEP, HOUR, 6 * HOUR, DAY] as const;

/**
 * The window cut into rollup levels: [lo[0], hi[0]) the whole 5-minute
 * buckets, [lo[k], hi[k]) the whole level-k buckets inside [lo[k-1], hi[k-1]).
 * A level is used only if it divides the interval (each of its buckets falls
 * in one answer bucket); an unused or empty level is an empty range at the
 * end of the one below, as are all above it.
 */
function rollupSpans(start: Date, end: Date, interval: number): { lo: number[]; hi: number[] } {
  const lo = [ceilTo(start.getTime() / 1000, ROLLUP_STEP)];
  const hi = [floorTo(end.getTime() / 1000, ROLLUP_STEP)];
  let used = true;
  for (let k = 1; k < ROLLUP_LEVELS.length; k += 1) {
    const width = ROLLUP_LEVELS[k];
    const [a, b] = [ceilTo(lo[k - 1], width), floorTo(hi[k - 1], width)];
    used = used && interval % width === 0 && a < b;
    lo.push(used ? a : hi[k - 1]);
    hi.push(used ? b : hi[k - 1]);
  }
  return { lo, hi };
}

/** Jobs that started running in [start, end), bucketed on epoch-aligned boundaries. */
export async function jobStats(db: Knex, q: StatsQuery): Promise<StatsRow[]> {
  if (!(q.end.getTime() > q.start.getTime())) return [];
  const interval = statsInterval(q.start, q.end);
  const { lo, hi } = rollupSpans(q.start, q.end, interval);
  const [s5, e5] = [lo[0], hi[0]];
  if (s5 >= e5) return jobStatsFromJobs(db, q);
  const top = ROLLUP_LEVELS.length - 1;
  const { p, values } = bindings();
  const at = (seconds: number) => p(new Date(seconds * 1000));
  // Each piece of live jobs, with the stats rule and the filters; the pieces never overlap.
  const liveJobs = (from: string, where: string) => `
      SELECT j.job_queue, j.status, j.run_started_at, x.vcpu_seconds, x.memory_seconds, x.instance_seconds
      FROM ${from} ${JOB_RUNTIME}
      CROSS JOIN LATERAL (SELECT ${JOB_USAGE}) x
      WHERE ${where} AND NOT ${ARRAY_PARENT_WITH_CHILDREN} ${filtersOn('j', q, p)}`;
  const sql = `
    WITH dirty AS MATERIALIZED (
      SELECT DISTINCT bucket FROM (${markedBuckets('job_stats_dirty')}) marked
      WHERE bucket >= ${p(s5)} AND bucket < ${p(e5)}
    ), ranges (level, lo, hi) AS (
      -- The top level's whole buckets, and each level below between its edges and those of the level above.
      VALUES (${ROLLUP_LEVELS[top]}, ${p(lo[top])}::bigint, ${p(hi[top])}::bigint)
      ${ROLLUP_LEVELS.slice(0, top).map((width, k) => `, (${width}, ${p(lo[k])}, ${p(lo[k + 1])}), (${width}, ${p(hi[k + 1])}, ${p(hi[k])})`).join('')}
    ), usage AS (
      SELECT r.job_queue, r.status, (floor(r.bucket / ${p(interval)}::float8) * ${p(interval)})::bigint AS "timestamp",
        ${RUNNING_UP_TO_NOW.map(([sum, column]) => `r.${sum} + r.${column} * (extract(epoch FROM now()) - r.bucket)::float8 - r.${column}_start AS ${sum}`).join(', ')},
        r.job_count
      -- LATERAL + OFFSET 0: an index range per range, never a join over the whole rollup.
      FROM ranges g CROSS JOIN LATERAL (
        SELECT * FROM job_stats_rollup r WHERE r.level = g.level AND r.bucket >= g.lo AND r.bucket < g.hi OFFSET 0) r
      WHERE true ${filtersOn('r', q, p)}
      UNION ALL
      -- A marked bucket's rolled-up part is in whichever row covers it: taken out here, counted from jobs below.
      SELECT r.job_queue, r.status, (floor(r.bucket / ${p(interval)}::float8) * ${p(interval)})::bigint,
        ${RUNNING_UP_TO_NOW.map(([sum, column]) => `-(r.${sum} + r.${column} * (extract(epoch FROM now()) - r.bucket)::float8 - r.${column}_start)`).join(', ')},
        -r.job_count
      FROM dirty d JOIN job_stats_rollup r ON r.level = ${ROLLUP_STEP} AND r.bucket = d.bucket
      WHERE true ${filtersOn('r', q, p)}
      UNION ALL
      SELECT job_queue, status, (floor(extract(epoch FROM run_started_at) / ${p(interval)}) * ${p(interval)})::bigint,
        vcpu_seconds, memory_seconds, instance_seconds, 1
      FROM (
        ${liveJobs('jobs j', `j.run_started_at >= ${p(q.start)} AND j.run_started_at < ${at(s5)}`)}
        UNION ALL
        ${liveJobs('jobs j', `j.run_started_at >= ${at(e5)} AND j.run_started_at < ${p(q.end)}`)}
        UNION ALL
        ${liveJobs(
          `dirty d CROSS JOIN LATERAL (SELECT * FROM jobs j
             WHERE j.run_started_at >= to_timestamp(d.bucket) AND j.run_started_at < to_timestamp(d.bucket + ${ROLLUP_STEP}) OFFSET 0) j`,
          'true',
        )}
      ) live
    )
    -- Never below 0: what is left of a sum that had a marked bucket taken out may be a rounding error.
    SELECT job_queue, status, "timestamp",
      GREATEST(SUM(vcpu_seconds), 0)::float8 AS vcpu_seconds, GREATEST(SUM(memory_seconds), 0)::float8 AS memory_seconds,
      GREATEST(SUM(instance_seconds), 0)::float8 AS instance_seconds, SUM(job_count)::int AS job_count
    FROM usage
    GROUP BY job_queue, status, "timestamp"
    HAVING SUM(job_count) > 0
    ORDER BY "timestamp", job_queue, status`;
  const result = await withoutJit(db, (trx) => trx.raw<{ rows: Omit<StatsRow, 'interval'>[] }>(sql, values));
  return toRows(result.rows, interval);
}
