import type { Knex } from 'knex';

/**
 * A rollup of finished jobs for GET /api/v1/jobs/stats (src/store/stats.ts).
 *
 * job_stats_rollup holds, per 5-minute, hourly, 6-hour and daily bucket of run start,
 * queue and status, the sums of the jobs that ran, by the stats rule of the
 * day this migration was written: finished jobs' seconds, and for running
 * ones Σ vCPUs and Σ vCPUs × (start − bucket) (memory, instance alike), which
 * give their seconds up to any now (src/store/statsRollup.ts). The
 * pipeline's rollUpStats task recomputes buckets; it never blocks a write.
 *
 * job_stats_dirty is what the write path leaves: statement triggers append
 * the 5-minute buckets whose jobs that ran were inserted, changed or
 * deleted, the array parents whose children appeared or went, and the task
 * ARNs whose instance info appeared or went (parents and tasks are resolved
 * to buckets by the reader, so a parent's or job's later move is seen).
 * Append-only, no unique key: a trigger never waits for the task's delete.
 * A stats query recomputes dirty buckets from `jobs` and takes the rest from
 * the rollup, in one snapshot: the answer is exact at any moment.
 *
 * jobs_task_arn finds the jobs of a task ARN (hash: ARNs are long, equality only);
 * jobs_running_run_started_at the running jobs (those that start after now()).
 *
 * On an adopted database the backfill reads every job that ran once (minutes
 * at 10M rows); docs/migrating.md says to migrate before switching.
 */

const BUCKET5 = '(floor(extract(epoch FROM run_started_at) / 300) * 300)::bigint';

/** A trigger function marking the buckets and parents of the rows of `changed_jobs` (INSERT or DELETE). */
const MARK_JOBS = `
  CREATE OR REPLACE FUNCTION job_stats_mark_jobs() RETURNS trigger AS $body$
  BEGIN
    INSERT INTO job_stats_dirty (bucket, job_id)
      SELECT DISTINCT ${BUCKET5}, NULL::varchar FROM changed_jobs WHERE run_started_at IS NOT NULL
      UNION
      SELECT DISTINCT NULL::bigint, array_parent_id FROM changed_jobs WHERE array_parent_id IS NOT NULL;
    RETURN NULL;
  END;
  $body$ LANGUAGE plpgsql`;

/**
 * The same for an UPDATE: both versions' buckets (a row that moved leaves
 * its old bucket), and the parents of changed children (a superset of the
 * parents whose children changed: one mark a batch, no join of old to new).
 */
const MARK_UPDATED_JOBS = `
  CREATE OR REPLACE FUNCTION job_stats_mark_updated_jobs() RETURNS trigger AS $body$
  BEGIN
    INSERT INTO job_stats_dirty (bucket, job_id)
      SELECT ${BUCKET5}, NULL::varchar FROM old_jobs WHERE run_started_at IS NOT NULL
      UNION
      SELECT ${BUCKET5}, NULL FROM new_jobs WHERE run_started_at IS NOT NULL
      UNION
      SELECT NULL, array_parent_id FROM new_jobs WHERE array_parent_id IS NOT NULL
      UNION
      SELECT NULL, array_parent_id FROM old_jobs WHERE array_parent_id IS NOT NULL;
    RETURN NULL;
  END;
  $body$ LANGUAGE plpgsql`;

const MARK_TASKS = `
  CREATE OR REPLACE FUNCTION job_stats_mark_tasks() RETURNS trigger AS $body$
  BEGIN
    INSERT INTO job_stats_dirty (task_arn) SELECT DISTINCT task_arn FROM changed_tasks;
    RETURN NULL;
  END;
  $body$ LANGUAGE plpgsql`;

const MARK_UPDATED_TASKS = `
  CREATE OR REPLACE FUNCTION job_stats_mark_updated_tasks() RETURNS trigger AS $body$
  BEGIN
    INSERT INTO job_stats_dirty (task_arn)
      SELECT task_arn FROM new_tasks UNION SELECT task_arn FROM old_tasks;
    RETURN NULL;
  END;
  $body$ LANGUAGE plpgsql`;

/** TRUNCATE jobs: nothing is left to roll up. */
const FORGET_ALL = `
  CREATE OR REPLACE FUNCTION job_stats_forget_all() RETURNS trigger AS $body$
  BEGIN
    DELETE FROM job_stats_rollup;
    DELETE FROM job_stats_dirty;
    RETURN NULL;
  END;
  $body$ LANGUAGE plpgsql`;

/** TRUNCATE task_arns_to_instance_info: every rolled-up bucket may have lost instance seconds. */
const MARK_ALL = `
  CREATE OR REPLACE FUNCTION job_stats_mark_all() RETURNS trigger AS $body$
  BEGIN
    INSERT INTO job_stats_dirty (bucket) SELECT DISTINCT bucket FROM job_stats_rollup WHERE level = 300;
    RETURN NULL;
  END;
  $body$ LANGUAGE plpgsql`;

const TRIGGERS: [name: string, definition: string][] = [
  ['job_stats_jobs_insert', 'AFTER INSERT ON jobs REFERENCING NEW TABLE AS changed_jobs FOR EACH STATEMENT EXECUTE FUNCTION job_stats_mark_jobs()'],
  ['job_stats_jobs_delete', 'AFTER DELETE ON jobs REFERENCING OLD TABLE AS changed_jobs FOR EACH STATEMENT EXECUTE FUNCTION job_stats_mark_jobs()'],
  ['job_stats_jobs_update',
    'AFTER UPDATE ON jobs REFERENCING OLD TABLE AS old_jobs NEW TABLE AS new_jobs FOR EACH STATEMENT EXECUTE FUNCTION job_stats_mark_updated_jobs()'],
  ['job_stats_jobs_truncate', 'AFTER TRUNCATE ON jobs FOR EACH STATEMENT EXECUTE FUNCTION job_stats_forget_all()'],
  ['job_stats_tasks_insert',
    'AFTER INSERT ON task_arns_to_instance_info REFERENCING NEW TABLE AS changed_tasks FOR EACH STATEMENT EXECUTE FUNCTION job_stats_mark_tasks()'],
  ['job_stats_tasks_delete',
    'AFTER DELETE ON task_arns_to_instance_info REFERENCING OLD TABLE AS changed_tasks FOR EACH STATEMENT EXECUTE FUNCTION job_stats_mark_tasks()'],
  ['job_stats_tasks_update',
    'AFTER UPDATE ON task_arns_to_instance_info REFERENCING OLD TABLE AS old_tasks NEW TABLE AS new_tasks FOR EACH STATEMENT EXECUTE FUNCTION job_stats_mark_updated_tasks()'],
  ['job_stats_tasks_truncate', 'AFTER TRUNCATE ON task_arns_to_instance_info FOR EACH STATEMENT EXECUTE FUNCTION job_stats_mark_all()'],
];

const SUMS = ['vcpu_seconds', 'memory_seconds', 'instance_seconds', 'job_count', 'run_vcpus', 'run_vcpus_start',
  'run_memory', 'run_memory_start', 'run_on_instance', 'run_on_instance_start'];
const INSERT = `INSERT INTO job_stats_rollup (level, bucket, job_queue, status, ${SUMS.join(', ')})`;

/** Every bucket of every level from `jobs`, by the stats rule (src/store/stats.ts) of this migration. */
const BACKFILL = [
  `${INSERT}
   SELECT 300, b, j.job_queue, j.status,
     SUM(CASE WHEN f.running THEN 0 ELSE f.vcpus * f.runtime END), SUM(CASE WHEN f.running THEN 0 ELSE f.memory * f.runtime END),
     SUM(CASE WHEN f.running OR NOT f.on_instance THEN 0 ELSE f.runtime END), COUNT(*),
     SUM(CASE WHEN f.running THEN f.vcpus ELSE 0 END), SUM(CASE WHEN f.running THEN f.vcpus * f.since ELSE 0 END),
     SUM(CASE WHEN f.running THEN f.memory ELSE 0 END), SUM(CASE WHEN f.running THEN f.memory * f.since ELSE 0 END),
     SUM(CASE WHEN f.running AND f.on_instance THEN 1 ELSE 0 END), SUM(CASE WHEN f.running AND f.on_instance THEN f.since ELSE 0 END)
   FROM jobs j
   CROSS JOIN LATERAL (SELECT ${BUCKET5} AS b) k
   CROSS JOIN LATERAL (SELECT
     j.stopped_at IS NULL AS running,
     COALESCE(j.vcpus_exact, j.vcpus)::float8 AS vcpus,
     j.memory::float8 AS memory,
     EXISTS (SELECT 1 FROM task_arns_to_instance_info t WHERE t.task_arn = j.task_arn) AS on_instance,
     GREATEST(extract(epoch FROM j.stopped_at - j.run_started_at), 0)::float8 AS runtime,
     (extract(epoch FROM j.run_started_at) - k.b)::float8 AS since) f
   WHERE j.run_started_at IS NOT NULL AND (j.stopped_at IS NOT NULL OR j.run_started_at <= now())
     AND NOT (j.array_parent_id IS NULL AND (j.array_properties->>'size') IS NOT NULL
              AND EXISTS (SELECT 1 FROM jobs c WHERE c.array_parent_id = j.job_id))
   GROUP BY b, j.job_queue, j.status`,
  ...[
    [3600, 300],
    [21600, 3600],
    [86400, 21600],
  ].map(
    ([level, from]) => `${INSERT}
   SELECT ${level}, b, job_queue, status,
     SUM(vcpu_seconds), SUM(memory_seconds), SUM(instance_seconds), SUM(job_count),
     SUM(run_vcpus), SUM(run_vcpus_start + run_vcpus * (bucket - b)), SUM(run_memory), SUM(run_memory_start + run_memory * (bucket - b)),
     SUM(run_on_instance), SUM(run_on_instance_start + run_on_instance * (bucket - b))
   FROM (SELECT *, (floor(bucket::float8 / ${level}) * ${level})::bigint AS b FROM job_stats_rollup WHERE level = ${from}) r
   GROUP BY b, job_queue, status`,
  ),
  // Running jobs that start after now() are not summed: their buckets stay marked.
  `INSERT INTO job_stats_dirty (bucket) SELECT DISTINCT ${BUCKET5} FROM jobs WHERE stopped_at IS NULL AND run_started_at > now()`,
];

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE job_stats_rollup (
      level            integer NOT NULL,
      bucket           bigint NOT NULL,
      job_queue        text NOT NULL,
      status           varchar(16) NOT NULL,
      vcpu_seconds     double precision NOT NULL,
      memory_seconds   double precision NOT NULL,
      instance_seconds double precision NOT NULL,
      job_count        integer NOT NULL,
      run_vcpus             double precision NOT NULL,
      run_vcpus_start       double precision NOT NULL,
      run_memory            double precision NOT NULL,
      run_memory_start      double precision NOT NULL,
      run_on_instance       double precision NOT NULL,
      run_on_instance_start double precision NOT NULL,
      PRIMARY KEY (level, bucket, job_queue, status)
    )`);
  await knex.raw(`
    CREATE TABLE job_stats_dirty (
      bucket   bigint,
      job_id   varchar(64),
      task_arn text,
      CHECK (num_nonnulls(bucket, job_id, task_arn) = 1)
    )`);
  await knex.raw('CREATE INDEX IF NOT EXISTS jobs_task_arn ON jobs USING hash (task_arn)');
  await knex.raw(
    'CREATE INDEX IF NOT EXISTS jobs_running_run_started_at ON jobs (run_started_at) WHERE stopped_at IS NULL AND run_started_at IS NOT NULL',
  );
  for (const fn of [MARK_JOBS, MARK_UPDATED_JOBS, MARK_TASKS, MARK_UPDATED_TASKS, FORGET_ALL, MARK_ALL]) await knex.raw(fn);
  for (const [name, definition] of TRIGGERS) await knex.raw(`CREATE TRIGGER ${name} ${definition}`);
  for (const sql of BACKFILL) await knex.raw(sql);
  await knex.raw('ANALYZE job_stats_rollup');
}

export async function down(knex: Knex): Promise<void> {
  for (const [name, definition] of TRIGGERS) {
    const table = / ON (\w+) /.exec(definition)![1];
    await knex.raw(`DROP TRIGGER IF EXISTS ${name} ON ${table}`);
  }
  for (const fn of ['job_stats_mark_jobs', 'job_stats_mark_updated_jobs', 'job_stats_mark_tasks', 'job_stats_mark_updated_tasks',
    'job_stats_forget_all', 'job_stats_mark_all']) {
    await knex.raw(`DROP FUNCTION IF EXISTS ${fn}()`);
  }
  await knex.raw('DROP INDEX IF EXISTS jobs_running_run_started_at');
  await knex.raw('DROP INDEX IF EXISTS jobs_task_arn');
  await knex.raw('DROP TABLE IF EXISTS job_stats_dirty');
  await knex.raw('DROP TABLE IF EXISTS job_stats_rollup');
}
