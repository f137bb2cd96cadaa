/**
 * Keeps job_stats_rollup (migration 20261203050000_job_stats_rollup): the
 * sums of finished jobs per 5-minute, hourly and daily bucket of run start,
 * queue and status, which stats read for the buckets no write has touched
 * since (src/store/stats.ts).
 *
 * The write path only appends marks to job_stats_dirty (statement triggers);
 * this takes marks, recomputes their 5-minute buckets from `jobs` and the
 * hours and days above them from the 5-minute rows, and deletes the marks,
 * in one transaction. Marks that commit meanwhile stay for the next pass.
 */
import type { Knex } from 'knex';
import { ARRAY_PARENT_WITH_CHILDREN, JOB_RUNTIME, JOB_USAGE, ROLLUP_STEP, bucket5, markedBuckets } from './stats';

/** Marks taken per transaction: bounds a pass's work and how long its rows stay locked. */
const MARKS_PER_PASS = 10_000;
/** One refresh at a time (two would recompute the same buckets for nothing). */
const LOCK_KEY = 0x6a6f6273; // "jobs"
/** The coarser levels, each summed from the one below. */
const LEVELS: readonly (readonly [level: number, from: number])[] = [
  [3600, ROLLUP_STEP],
  [86_400, 3600],
];

const INSERT_ROLLUP = 'INSERT INTO job_stats_rollup (level, bucket, job_queue, status, vcpu_seconds, memory_seconds, instance_seconds, job_count)';

/** SQL: the 5-minute rows of the finished jobs `source` selects (a FROM list naming jobs `j`, and `bucket`). */
function fiveMinuteRows(source: string, bucket: string): string {
  return `${INSERT_ROLLUP}
    SELECT ${ROLLUP_STEP}, ${bucket} AS b, j.job_queue, j.status,
      SUM(x.vcpu_seconds), SUM(x.memory_seconds), SUM(x.instance_seconds), COUNT(*)
    FROM ${source} ${JOB_RUNTIME}
    CROSS JOIN LATERAL (SELECT ${JOB_USAGE}) x
    WHERE j.stopped_at IS NOT NULL AND j.run_started_at IS NOT NULL AND NOT ${ARRAY_PARENT_WITH_CHILDREN}
    GROUP BY b, j.job_queue, j.status`;
}

async function recomputeBuckets(trx: Knex.Transaction, buckets: number[]): Promise<void> {
  if (buckets.length === 0) return;
  await trx.raw('DELETE FROM job_stats_rollup WHERE level = ? AND bucket = ANY(?::bigint[])', [ROLLUP_STEP, buckets]);
  await trx.raw(
    fiveMinuteRows(
      `unnest(?::bigint[]) AS d(bucket)
       JOIN jobs j ON j.run_started_at >= to_timestamp(d.bucket) AND j.run_started_at < to_timestamp(d.bucket + ${ROLLUP_STEP})`,
      'd.bucket',
    ),
    [buckets],
  );
  let below = buckets;
  for (const [level, from] of LEVELS) {
    const above = [...new Set(below.map((b) => Math.floor(b / level) * level))];
    await trx.raw('DELETE FROM job_stats_rollup WHERE level = ? AND bucket = ANY(?::bigint[])', [level, above]);
    await trx.raw(
      `${INSERT_ROLLUP}
       SELECT ?, a.bucket, r.job_queue, r.status,
         SUM(r.vcpu_seconds), SUM(r.memory_seconds), SUM(r.instance_seconds), SUM(r.job_count)
       FROM unnest(?::bigint[]) AS a(bucket)
       JOIN job_stats_rollup r ON r.level = ? AND r.bucket >= a.bucket AND r.bucket < a.bucket + ?
       GROUP BY a.bucket, r.job_queue, r.status`,
      [level, above, from, level],
    );
    below = above;
  }
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
        `${INSERT_ROLLUP}
         SELECT ?, (floor(bucket::float8 / ?) * ?)::bigint AS b, job_queue, status,
           SUM(vcpu_seconds), SUM(memory_seconds), SUM(instance_seconds), SUM(job_count)
         FROM job_stats_rollup WHERE level = ? GROUP BY b, job_queue, status`,
        [level, level, level, from],
      );
    }
  });
}
