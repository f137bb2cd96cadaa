import type { Knex } from 'knex';

/**
 * A rollup of GET /api/v1/jobs/stats kept by the write path, so a 90-day chart
 * reads a few thousand rollup rows instead of every job that ran in 90 days
 * (bench/README.md, Store section, has the figures at 10,000,000 jobs).
 *
 * job_stats_rollup holds, per level (5 minutes, 1 hour, 1 day), epoch-aligned
 * bucket of run_started_at, queue, status and whether the row is an array
 * parent, what the jobs of that bucket add to the stats:
 * - finished jobs (stopped_at set): count, vCPU-, memory- and instance-seconds;
 * - unfinished ones, whose runtime grows with now(): the sums that make their
 *   seconds linear in now (vCPUs and vCPUs x start, and so on), so
 *   `now * open_vcpus - open_vcpus_start` is their vCPU-seconds at any now
 *   after the bucket (the stats query reads the rollup only for such buckets).
 * Sums are numeric, so adding and subtracting never drifts.
 *
 * Statement triggers on jobs (insert, update, delete) and on
 * task_arns_to_instance_info (insert, delete: a job's instance seconds count
 * when its task has a row there) apply the difference each statement makes.
 * Rollup writers take one transaction-level advisory lock before reading
 * either table, so a job's instance membership is seen the same way by both
 * triggers whatever the order of concurrent writers (READ COMMITTED: each
 * statement of the trigger reads what committed before the lock was granted).
 *
 * New indexes: run_started_at (the stats query reads the minutes at the edges
 * of its range from jobs) and a hash index on task_arn (the task-info trigger
 * finds the jobs of the tasks it adds or removes).
 */

export const STATS_LEVELS = [300, 3600, 86400] as const;
const ROLLUP_LOCK = 'hashtext(\'job_stats_rollup\')';

const V = 'COALESCE(r.vcpus_exact, r.vcpus)::numeric';
const START = 'extract(epoch FROM r.run_started_at)';
const CLOSED_RUNTIME = 'GREATEST(extract(epoch FROM r.stopped_at - r.run_started_at), 0)';
const ON_INSTANCE = 'EXISTS (SELECT 1 FROM task_arns_to_instance_info t WHERE t.task_arn = r.task_arn)';
const ARRAY_PARENT = "((r.array_properties ->> 'size') IS NOT NULL AND r.array_parent_id IS NULL)";

const SUM_COLUMNS = [
  'n',
  'closed_vcpu_s',
  'closed_mem_s',
  'closed_inst_s',
  'open_vcpus',
  'open_vcpus_start',
  'open_mem',
  'open_mem_start',
  'open_inst',
  'open_inst_start',
] as const;

/**
 * What the rows of `source` (jobs columns, alias r) add to the rollup, times
 * `sign`; `instanceOnly` keeps only the instance-seconds part (for rows whose
 * task gained or lost its instance info). Columns: level, bucket, job_queue,
 * status, array_parent, then SUM_COLUMNS.
 */
function contributions(source: string, sign: 1 | -1, instanceOnly = false): string {
  const s = sign === 1 ? '' : '-';
  const closed = (expr: string) => `${s}COALESCE(SUM(CASE WHEN r.stopped_at IS NOT NULL THEN ${expr} END), 0)`;
  const open = (expr: string) => `${s}COALESCE(SUM(CASE WHEN r.stopped_at IS NULL THEN ${expr} END), 0)`;
  const inst = instanceOnly ? 'TRUE' : 'r.on_instance';
  const zero = '0::numeric';
  const sums = [
    instanceOnly ? zero : `${s}COUNT(*)::numeric`,
    instanceOnly ? zero : closed(`${V} * ${CLOSED_RUNTIME}`),
    instanceOnly ? zero : closed(`r.memory::numeric * ${CLOSED_RUNTIME}`),
    closed(`CASE WHEN ${inst} THEN ${CLOSED_RUNTIME} ELSE 0 END`),
    instanceOnly ? zero : open(V),
    instanceOnly ? zero : open(`${V} * ${START}`),
    instanceOnly ? zero : open('r.memory::numeric'),
    instanceOnly ? zero : open(`r.memory::numeric * ${START}`),
    open(`CASE WHEN ${inst} THEN 1 ELSE 0 END`),
    open(`CASE WHEN ${inst} THEN ${START} ELSE 0 END`),
  ];
  return `
    SELECT l.level, (floor(${START} / l.level) * l.level)::bigint AS bucket, r.job_queue, r.status::text AS status,
      ${ARRAY_PARENT} AS array_parent,
      ${sums.map((e, i) => `${e} AS ${SUM_COLUMNS[i]}`).join(',\n      ')}
    FROM (${source}) r CROSS JOIN (VALUES ${STATS_LEVELS.map((l) => `(${l})`).join(', ')}) AS l(level)
    WHERE r.run_started_at IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5`;
}

/** Jobs rows with whether their task ran on a known instance. */
const withInstance = (from: string) => `SELECT r.*, ${ON_INSTANCE} AS on_instance FROM ${from} r`;

/** Adds the summed `deltas` (rows of contributions()) to the rollup, in key order (no deadlock between writers). */
function applyDeltas(deltas: string): string {
  const key = 'level, bucket, job_queue, status, array_parent';
  return `
    INSERT INTO job_stats_rollup (${key}, ${SUM_COLUMNS.join(', ')})
    SELECT ${key}, ${SUM_COLUMNS.map((c) => `SUM(${c})`).join(', ')}
    FROM (${deltas}) d
    GROUP BY ${key}
    HAVING ${SUM_COLUMNS.map((c) => `SUM(${c}) <> 0`).join(' OR ')}
    ORDER BY ${key}
    ON CONFLICT (${key}) DO UPDATE SET
      ${SUM_COLUMNS.map((c) => `${c} = job_stats_rollup.${c} + EXCLUDED.${c}`).join(',\n      ')}`;
}

/** The columns an update must change for the job's stats to change. */
const STATS_COLUMNS = ['run_started_at', 'stopped_at', 'job_queue', 'status', 'vcpus', 'vcpus_exact', 'memory', 'task_arn', 'array_parent_id'];
const statsColumnsDiffer = (a: string, b: string) =>
  `(${STATS_COLUMNS.map((c) => `${a}.${c}`).join(', ')}, ${a}.array_properties ->> 'size') IS DISTINCT FROM ` +
  `(${STATS_COLUMNS.map((c) => `${b}.${c}`).join(', ')}, ${b}.array_properties ->> 'size')`;

function triggerFunction(name: string, body: string): string {
  return `
    CREATE OR REPLACE FUNCTION ${name}() RETURNS trigger AS $body$
    BEGIN
      PERFORM pg_advisory_xact_lock(${ROLLUP_LOCK});
      ${body};
      RETURN NULL;
    END;
    $body$ LANGUAGE plpgsql`;
}

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE IF NOT EXISTS job_stats_rollup (
      level        integer NOT NULL,
      bucket       bigint NOT NULL,
      job_queue    text NOT NULL,
      status       text NOT NULL,
      array_parent boolean NOT NULL,
      ${SUM_COLUMNS.map((c) => `${c} numeric NOT NULL DEFAULT 0`).join(',\n      ')},
      PRIMARY KEY (level, bucket, job_queue, status, array_parent)
    )`);
  await knex.raw('CREATE INDEX IF NOT EXISTS jobs_run_started_at ON jobs (run_started_at) WHERE run_started_at IS NOT NULL');
  await knex.raw('CREATE INDEX IF NOT EXISTS jobs_task_arn ON jobs USING hash (task_arn) WHERE task_arn IS NOT NULL');

  await knex.raw(triggerFunction('job_stats_rollup_after_insert', applyDeltas(contributions(withInstance('inserted_jobs'), 1))));
  await knex.raw(
    triggerFunction('job_stats_rollup_after_delete', applyDeltas(contributions(withInstance('deleted_jobs'), -1))),
  );
  const changedOld = `(SELECT o.* FROM old_jobs o JOIN new_jobs n ON n.job_id = o.job_id WHERE ${statsColumnsDiffer('o', 'n')})`;
  const changedNew = `(SELECT n.* FROM new_jobs n JOIN old_jobs o ON o.job_id = n.job_id WHERE ${statsColumnsDiffer('o', 'n')})`;
  await knex.raw(
    triggerFunction(
      'job_stats_rollup_after_update',
      applyDeltas(`${contributions(withInstance(changedOld), -1)} UNION ALL ${contributions(withInstance(changedNew), 1)}`),
    ),
  );
  // A task's first info row (or its last one gone) moves its jobs' runtime in or out of instance seconds.
  const flipped = (table: string) => `
    SELECT j.* FROM jobs j
    WHERE j.task_arn IN (SELECT c.task_arn FROM ${table} c)
      AND j.task_arn IS NOT NULL
      AND (SELECT COUNT(*) FROM task_arns_to_instance_info t WHERE t.task_arn = j.task_arn)
        = ${table === 'added_info' ? '(SELECT COUNT(*) FROM added_info c WHERE c.task_arn = j.task_arn)' : '0'}`;
  await knex.raw(triggerFunction('job_stats_rollup_info_insert', applyDeltas(contributions(flipped('added_info'), 1, true))));
  await knex.raw(triggerFunction('job_stats_rollup_info_delete', applyDeltas(contributions(flipped('removed_info'), -1, true))));

  await knex.raw(`
    CREATE TRIGGER job_stats_rollup_insert AFTER INSERT ON jobs REFERENCING NEW TABLE AS inserted_jobs
      FOR EACH STATEMENT EXECUTE FUNCTION job_stats_rollup_after_insert()`);
  await knex.raw(`
    CREATE TRIGGER job_stats_rollup_update AFTER UPDATE ON jobs REFERENCING OLD TABLE AS old_jobs NEW TABLE AS new_jobs
      FOR EACH STATEMENT EXECUTE FUNCTION job_stats_rollup_after_update()`);
  await knex.raw(`
    CREATE TRIGGER job_stats_rollup_delete AFTER DELETE ON jobs REFERENCING OLD TABLE AS deleted_jobs
      FOR EACH STATEMENT EXECUTE FUNCTION job_stats_rollup_after_delete()`);
  await knex.raw(`
    CREATE TRIGGER job_stats_rollup_info_insert AFTER INSERT ON task_arns_to_instance_info
      REFERENCING NEW TABLE AS added_info FOR EACH STATEMENT EXECUTE FUNCTION job_stats_rollup_info_insert()`);
  await knex.raw(`
    CREATE TRIGGER job_stats_rollup_info_delete AFTER DELETE ON task_arns_to_instance_info
      REFERENCING OLD TABLE AS removed_info FOR EACH STATEMENT EXECUTE FUNCTION job_stats_rollup_info_delete()`);

  // What the jobs already there add (an adopted database: once, a few minutes for tens of millions of rows).
  await rebuildStatsRollup(knex);
}

/** Computes the rollup afresh from every job (in a transaction of the caller's, or its own statement each). */
export async function rebuildStatsRollup(knex: Knex): Promise<void> {
  await knex.transaction(async (trx) => {
    await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', ['job_stats_rollup']);
    await trx.raw('DELETE FROM job_stats_rollup');
    await trx.raw(applyDeltas(contributions(withInstance('jobs'), 1)));
  });
  await knex.raw('ANALYZE job_stats_rollup');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TRIGGER IF EXISTS job_stats_rollup_insert ON jobs');
  await knex.raw('DROP TRIGGER IF EXISTS job_stats_rollup_update ON jobs');
  await knex.raw('DROP TRIGGER IF EXISTS job_stats_rollup_delete ON jobs');
  await knex.raw('DROP TRIGGER IF EXISTS job_stats_rollup_info_insert ON task_arns_to_instance_info');
  await knex.raw('DROP TRIGGER IF EXISTS job_stats_rollup_info_delete ON task_arns_to_instance_info');
  for (const f of ['after_insert', 'after_update', 'after_delete', 'info_insert', 'info_delete']) {
    await knex.raw(`DROP FUNCTION IF EXISTS job_stats_rollup_${f}()`);
  }
  await knex.raw('DROP INDEX IF EXISTS jobs_run_started_at');
  await knex.raw('DROP INDEX IF EXISTS jobs_task_arn');
  await knex.raw('DROP TABLE IF EXISTS job_stats_rollup');
}
