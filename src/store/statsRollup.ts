/**
 * Keeps job_stats_rollup (migration 20261203060000_job_stats_rollup): per
 * 5-minute, hourly, 6-hour and daily bucket of run start, queue and status, the sums
 * of the jobs that ran, which stats read for the buckets no write has touched
 * since (src/store/stats.ts).
 *
 * A finished job adds its fixed seconds. A running one adds what makes its
 * seconds at any later moment a sum too: vCPUs × (now − start) =
 * vCPUs × (now − bucket) − vCPUs × (start − bucket), so the row keeps
 * Σ vCPUs and Σ vCPUs × (start − bucket) (memory and instance alike). Only
 * jobs that started by the roll-up's now() are summed so; a bucket holding
 * a later start stays marked.
 *
 * The write path only appends marks to job_stats_dirty (statement triggers);
 * this takes marks, recomputes their 5-minute buckets from `jobs` and the
 * coarser buckets above them, each from the level below, and deletes the marks,
 * in one transaction. Marks that commit meanwhile stay for the next pass.
 */
import type { Knex } from 'knex';
import { ARRAY_PARENT_WITH_CHILDREN, ON_INSTANCE, ROLLUP_LEVELS, ROLLUP_STEP, bucket5, markedBuckets } from './stats';

/** Marks taken per transaction: bounds a pass's work and how long its rows stay locked. */
const MARKS_PER_PASS = 10_000;
/** One refresh at a time (two would recompute the same buckets for nothing). */
const LOCK_KEY = 0x6a6f6273; // "jobs"
/** The coarser levels, each summed from the one below. */
const LEVELS = ROLLUP_LEVELS.slice(1).map((level, k) => [level, ROLLUP_LEVELS[k]] as const);

const COLUMNS = [
  'vcpu_seconds', 'memory_seconds', 'instance_seconds', 'job_count',
  'run_vcpus', 'run_vcpus_start', 'run_memory', 'run_memory_start', 'run_on_instance', 'run_on_instance_start',
] as const;
const INSERT_ROLLUP = `INSERT INTO job_stats_rollup (level, bucket, job_queue, status, ${COLUMNS.join(', ')})`;

/**
 * SQL: the 5-minute rows of the jobs `source` selects (a FROM list naming
 * jobs `j`), `bucket` their bucket: finished jobs, and running ones that
 * started by now().
 */
function fiveMinuteRows(source: string, bucket: string): string {
  const finished = (x: string) => `SUM(CASE WHEN f.running THEN 0 ELSE ${x} END)`;
  const running = (x: string) => `SUM(CASE WHEN f.running THEN ${x} ELSE 0 END)`;
  const onInstance = (x: string) => `CASE WHEN f.on_instance THEN ${x} ELSE 0 END`;
  return `${INSERT_ROLLUP}
    SELECT ${ROLLUP_STEP}, ${bucket} AS b, j.job_queue, j.status,
      ${finished('f.vcpus * f.runtime')}, ${finished('f.memory * f.runtime')}, ${finished(onInstance('f.runtime'))}, COUNT(*),
      ${running('f.vcpus')}, ${running('f.vcpus * f.since')}, ${running('f.memory')}, ${running('f.memory * f.since')},
      ${running(onInstance('1'))}, ${running(onInstance('f.since'))}
    FROM ${source}
    CROSS JOIN LATERAL (SELECT
      j.stopped_at IS NULL AS running,
      COALESCE(j.vcpus_exact, j.vcpus)::float8 AS vcpus,
      j.memory::float8 AS memory,
      ${ON_INSTANCE} AS on_instance,
      GREATEST(extract(epoch FROM j.stopped_at - j.run_started_at), 0)::float8 AS runtime,
      (extract(epoch FROM j.run_started_at) - ${bucket})::float8 AS since) f
    WHERE j.run_started_at IS NOT NULL AND (j.stopped_at IS NOT NULL OR j.run_started_at <= now())
      AND NOT ${ARRAY_PARENT_WITH_CHILDREN}
    GROUP BY b, j.job_queue, j.status`;
}

/** SQL: the rows of `level` from those of level `from` in `source` (rows `r`, with the level's bucket as `b`). */
function coarserRows(level: number, source: string): string {
  const shifted = (x: string, sum: string) => `SUM(r.${x}_start + r.${sum} * (r.bucket - b))`;
  return `${INSERT_ROLLUP}
    SELECT ${level}, b, r.job_queue, r.status,
      SUM(r.vcpu_seconds), SUM(r.memory_seconds), SUM(r.instance_seconds), SUM(r.job_count),
      SUM(r.run_vcpus), ${shifted('run_vcpus', 'run_vcpus')}, SUM(r.run_memory), ${shifted('run_memory', 'run_memory')},
      SUM(r.run_on_instance), ${shifted('run_on_instance', 'run_on_instance')}
    FROM ${source}
    GROUP BY b, r.job_queue, r.status`;
}

/** Buckets holding a running job that starts after now() (clock skew): not summed, so they stay marked. */
const MARK_LATER_STARTS = `INSERT INTO job_stats_dirty (bucket)
  SELECT DISTINCT ${bucket5('j')} FROM jobs j WHERE j.stopped_at IS NULL AND j.run_started_at > now()`;

async function recomputeBuckets(trx: Knex.Transaction, buckets: number[]): Promise<void> {
  if (buckets.length === 0) return;
  await trx.raw('DELETE FROM job_stats_rollup WHERE level = ? AND bucket = ANY(?::bigint[])', [ROLLUP_STEP, buckets]);
  await trx.raw(
    fiveMinuteRows(
      // LATERAL + OFFSET 0: an index range per bucket (the planner's generic estimate chose to scan every job).
      `unnest(?::bigint[]) AS d(bucket) CROSS JOIN LATERAL (SELECT * FROM jobs j
         WHERE j.run_started_at >= to_timestamp(d.bucket) AND j.run_started_at < to_timestamp(d.bucket + ${ROLLUP_STEP}) OFFSET 0) j`,
      'd.bucket',
    ),
    [buckets],
  );
  let below = buckets;
  for (const [level, from] of LEVELS) {
    const above = [...new Set(below.map((b) => Math.floor(b / level) * level))];
    await trx.raw('DELETE FROM job_stats_rollup WHERE level = ? AND bucket = ANY(?::bigint[])', [level, above]);
    await trx.raw(
      coarserRows(level, `unnest(?::bigint[]) AS a(b) JOIN job_stats_rollup r ON r.level = ? AND r.bucket >= a.b AND r.bucket < a.b + ?`),
      [above, from, level],
    );
    below = above;
  }
  await trx.raw(MARK_LATER_STARTS);
}

export interface RollupRefresh {
  /** Marks taken from job_stats_dirty. */
  marks: number;
  /** 5-minute buckets recomputed. */
  buckets: number;
}

/** One transaction: up to MARKS_PER_PASS marks taken, their buckets recomputed. */
async function refreshPass(db: Knex): Promise<RollupRefresh> {
  return db.transaction(async (trx) => {
    await trx.raw('SELECT pg_advisory_xact_lock(?)', [LOCK_KEY]);
    const taken = await trx.raw<{ rows: { marks: number; buckets: (string | number)[] }[] }>(
      `WITH taken AS (
         DELETE FROM job_stats_dirty WHERE ctid = ANY(ARRAY(SELECT ctid FROM job_stats_dirty LIMIT ?))
         RETURNING bucket, job_id, task_arn
       )
       SELECT (SELECT count(*) FROM taken)::int AS marks,
         ARRAY(SELECT DISTINCT bucket FROM (${markedBuckets('taken')}) marked ORDER BY 1) AS buckets`,
      [MARKS_PER_PASS],
    );
    const { marks, buckets } = taken.rows[0];
    const numbers = buckets.map(Number);
    await recomputeBuckets(trx, numbers);
    return { marks, buckets: numbers.length };
  });
}

/**
 * Rolls up what the marks say changed, pass after pass, until no marks are
 * left or `budgetMs` has passed (the next run goes on: the stats stay exact
 * meanwhile, only slower over the buckets still marked).
 */
export async function refreshStatsRollup(db: Knex, budgetMs = 20_000): Promise<RollupRefresh> {
  const total: RollupRefresh = { marks: 0, buckets: 0 };
  const until = Date.now() + budgetMs;
  for (;;) {
    const pass = await refreshPass(db);
    total.marks += pass.marks;
    total.buckets += pass.buckets;
    // Marks of later starts come back at each pass: they do not count as work left.
    if (pass.marks < MARKS_PER_PASS || Date.now() >= until) return total;
  }
}

/** Recomputes the whole rollup from `jobs` (after a bulk load with the triggers off). */
export async function rebuildStatsRollup(db: Knex): Promise<void> {
  await db.transaction(async (trx) => {
    await trx.raw('SELECT pg_advisory_xact_lock(?)', [LOCK_KEY]);
    await trx.raw('DELETE FROM job_stats_dirty');
    await trx.raw('DELETE FROM job_stats_rollup');
    await trx.raw(fiveMinuteRows('jobs j', bucket5('j')));
    for (const [level, from] of LEVELS) {
      await trx.raw(
        coarserRows(level, `(SELECT *, (floor(bucket::float8 / ${level}) * ${level})::bigint AS b FROM job_stats_rollup WHERE level = ?) r`),
        [from],
      );
    }
    await trx.raw(MARK_LATER_STARTS);
  });
}
