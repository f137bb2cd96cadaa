/**
 * The pipeline's batched upsert of mirrored jobs: the mirrored columns, the
 * batch's JSON shape, and the statement that writes only rows that changed
 * (and, for described jobs, their rows of job_dependencies that changed).
 */
import type { Knex } from 'knex';
import type { ClientBase as PgClientBase } from 'pg';
import { withPgConnection } from '../db';
import type { JobDependencyLink, MirroredJob } from '../../types';

/** Mirrored columns with their SQL types, in one place: the upsert derives everything from it. */
export const MIRRORED_COLUMNS: readonly (readonly [keyof MirroredJob, string])[] = [
  ['job_id', 'varchar(64)'],
  ['job_name', 'text'],
  ['job_definition', 'text'],
  ['job_queue', 'text'],
  ['image', 'text'],
  ['status', 'varchar(16)'],
  ['created_at', 'timestamptz'],
  ['stopped_at', 'timestamptz'],
  ['vcpus', 'integer'],
  ['vcpus_exact', 'double precision'],
  ['memory', 'integer'],
  ['timeout', 'integer'],
  ['command_line', 'text'],
  ['status_reason', 'text'],
  ['run_started_at', 'timestamptz'],
  ['exitcode', 'integer'],
  ['log_stream_name', 'text'],
  ['log_group_name', 'text'],
  ['task_arn', 'text'],
  ['array_properties', 'jsonb'],
  ['array_parent_id', 'varchar(64)'],
  ['array_index', 'integer'],
  ['attempts', 'integer'],
  ['platform', 'text'],
  ['job_type', 'text'],
];

export const MIRRORED_NAMES = MIRRORED_COLUMNS.map(([c]) => c);
/** Every mirrored column but the key: what an upsert rewrites and compares. */
export const MIRRORED_UPDATABLE = MIRRORED_NAMES.filter((c) => c !== 'job_id');
/**
 * The batch's JSON keys: k0, k1, ... in MIRRORED_COLUMNS order rather than
 * the column names. The batch text is ~20 % smaller (1,000 typical jobs:
 * 475 instead of 602 kB) to send to a database across the network and for it
 * to lex; on loopback the gain is within noise (bench/README.md, Store).
 */
const BATCH_KEYS = MIRRORED_NAMES.map((_, i) => `k${i.toString(36)}`);

/** The batch's key of a job's dependency set (absent: not known, leave the stored set alone). */
const DEPENDENCIES_KEY = 'dp';

/**
 * SQL: the rows of a batch built by mirroredBatchJson, with the mirrored
 * column names, read from the bind parameter `param` ($1 or ?); with
 * `dependencies`, also each job's dependency set as a JSON array (`dependencies`).
 */
export function mirroredBatchRecords(param: string, opts: { dependencies?: boolean } = {}): string {
  const columns = MIRRORED_COLUMNS.map(([c], i) => `r.${BATCH_KEYS[i]} AS ${c}`);
  const definitions = MIRRORED_COLUMNS.map(([, t], i) => `${BATCH_KEYS[i]} ${t}`);
  if (opts.dependencies) {
    columns.push(`r.${DEPENDENCIES_KEY} AS dependencies`);
    definitions.push(`${DEPENDENCIES_KEY} json`);
  }
  return `SELECT ${columns.join(', ')} FROM json_to_recordset(${param}::json) AS r(${definitions.join(', ')})`;
}

/** SQL: some mirrored field of row `left` differs from row `right` (NULLs compared as values). */
export const mirroredFieldsDiffer = (left: string, right: string) =>
  `(${MIRRORED_UPDATABLE.map((c) => `${left}.${c}`).join(', ')}) IS DISTINCT FROM (${MIRRORED_UPDATABLE.map((c) => `${right}.${c}`).join(', ')})`;

/**
 * One statement per batch with a single bind parameter (the batch as JSON,
 * expanded by json_to_recordset), so batch size is never limited by
 * Postgres' 65535 bind parameters. `json`, not `jsonb`: the text is read
 * once into the records, without first building (and key-sorting) a jsonb
 * value — a third of the statement's input cost (bench/README.md, Store).
 * Null fields are left out of the JSON: a missing key reads as NULL.
 *
 * `changed` drops rows equal to what is stored before the INSERT sees them:
 * ON CONFLICT DO UPDATE would otherwise lock (and so write to) every
 * conflicting row even when its WHERE then skips the update. The same test in
 * DO UPDATE's WHERE covers a row changed by someone else in between.
 * RETURNING yields only the rows actually inserted or updated. A row an
 * event wrote (needs_describe, event_written) is rewritten even when equal:
 * this describe is what confirms it.
 *
 * ORDER BY job_id in byte order (COLLATE "C", the order upsertJobs sorts
 * batches in, and the event path's): rows are locked in the order the INSERT
 * reads them, which the join in `changed` alone does not fix, so two writers
 * of overlapping jobs always lock in the same order and cannot deadlock.
 */
function upsertSql(withDependencies: boolean): string {
  return `
  WITH input AS (
    ${mirroredBatchRecords('$1', { dependencies: withDependencies })}
  ), changed AS (
    SELECT input.*, (jobs.job_id IS NULL OR jobs.needs_describe) AS first_described
    FROM input LEFT JOIN jobs ON jobs.job_id = input.job_id
    WHERE jobs.job_id IS NULL OR jobs.needs_describe OR jobs.event_written OR ${mirroredFieldsDiffer('jobs', 'input')}
  )${withDependencies ? DEPENDENCY_CTES : ''}
  INSERT INTO jobs (${MIRRORED_NAMES.join(', ')}, last_updated, last_seen_at)
  SELECT ${MIRRORED_NAMES.map((c) => `changed.${c}`).join(', ')}, now(), now()
  FROM changed
  ORDER BY changed.job_id COLLATE "C"
  ON CONFLICT (job_id) DO UPDATE SET
    ${MIRRORED_UPDATABLE.map((c) => `${c} = EXCLUDED.${c}`).join(',\n    ')},
    needs_describe = false,
    event_written = false,
    last_updated = now(),
    last_seen_at = now()
  WHERE jobs.needs_describe OR jobs.event_written OR ${mirroredFieldsDiffer('jobs', 'EXCLUDED')}
  RETURNING job_id`;
}

/**
 * The dependency sets of the batch's jobs described for the first time (new
 * rows, and rows awaiting a describe: an event's placeholder, or a row
 * mirrored before this table existed, which its migration marks) made equal
 * to job_dependencies, touching only rows that differ: those no longer listed
 * deleted, a changed type updated, new ones inserted. The three touch
 * different rows, as data-modifying CTEs of one statement must. A row already
 * described is skipped even when it changed: AWS never changes a job's
 * dependsOn after submission, and the sync (the only writer of described
 * rows) always passes the set, so it was written with the row's first
 * describe; comparing it on every status change cost a quarter of the
 * upsert's time. ON CONFLICT DO NOTHING: another worker's describe of the
 * same job may insert it first.
 */
export const DEPENDENCY_CTES = `, dep_jobs AS (
    SELECT job_id, dependencies FROM changed WHERE dependencies IS NOT NULL AND first_described
  ), dep_input AS (
    SELECT dep_jobs.job_id, d.i AS depends_on_job_id, d.t AS type
    FROM dep_jobs CROSS JOIN LATERAL json_to_recordset(dep_jobs.dependencies) AS d(i varchar(64), t text)
  ), dep_removed AS (
    DELETE FROM job_dependencies jd USING dep_jobs
    WHERE jd.job_id = dep_jobs.job_id
      AND NOT EXISTS (SELECT 1 FROM dep_input d WHERE d.job_id = jd.job_id AND d.depends_on_job_id = jd.depends_on_job_id)
  ), dep_retyped AS (
    UPDATE job_dependencies jd SET type = d.type FROM dep_input d
    WHERE jd.job_id = d.job_id AND jd.depends_on_job_id = d.depends_on_job_id AND jd.type IS DISTINCT FROM d.type
  ), dep_added AS (
    INSERT INTO job_dependencies (job_id, depends_on_job_id, type)
    SELECT d.job_id, d.depends_on_job_id, d.type FROM dep_input d
    WHERE NOT EXISTS (
      SELECT 1 FROM job_dependencies jd WHERE jd.job_id = d.job_id AND jd.depends_on_job_id = d.depends_on_job_id
    )
    ON CONFLICT DO NOTHING
  )`;

const UPSERT_SQL = upsertSql(false);
const UPSERT_WITH_DEPENDENCIES_SQL = upsertSql(true);

export const DEFAULT_UPSERT_BATCH_SIZE = 1000;

/** Keeps the last occurrence of each id: one statement may not touch a row twice. */
function lastPerId(jobs: MirroredJob[]): MirroredJob[] {
  const byId = new Map<string, MirroredJob>();
  for (const job of jobs) {
    byId.delete(job.job_id);
    byId.set(job.job_id, job);
  }
  return [...byId.values()];
}

/**
 * A batch of mirrored jobs as the JSON text mirroredBatchRecords reads: only
 * the mirrored columns, under their short keys, null fields left out (a
 * missing key reads as NULL).
 */
export function mirroredBatchJson(jobs: readonly MirroredJob[], dependencies?: DependencySets): string {
  return JSON.stringify(
    jobs.map((job) => {
      const record: Record<string, unknown> = {};
      for (let i = 0; i < MIRRORED_NAMES.length; i += 1) {
        const value = job[MIRRORED_NAMES[i]];
        if (value !== null && value !== undefined) record[BATCH_KEYS[i]] = value;
      }
      const links = dependencies?.get(job.job_id);
      if (links) record[DEPENDENCIES_KEY] = links.map((l) => (l.type === null ? { i: l.depends_on_job_id } : { i: l.depends_on_job_id, t: l.type }));
      return record;
    }),
  );
}

/**
 * Each described job's complete dependency set (mapping's dependenciesOf),
 * by job id; an empty set clears what is stored. Written for jobs whose row
 * is written (see DEPENDENCY_CTES); jobs not in it keep theirs.
 */
export type DependencySets = ReadonlyMap<string, readonly JobDependencyLink[]>;

export const DEFAULT_UPSERT_CONCURRENCY = 2;

/** Byte order of ids: JavaScript's `<` on strings, and SQL's COLLATE "C" (for ids without characters beyond U+FFFF). */
export const byJobId = (a: { job_id: string }, b: { job_id: string }): number => (a.job_id < b.job_id ? -1 : a.job_id > b.job_id ? 1 : 0);

/**
 * Batches run on up to `concurrency` connections at once (1 inside a
 * transaction). Ids are distinct and sorted, so concurrent batches never touch
 * the same row, and every statement (and a transaction's batches, one after
 * another) locks rows in byte order of ids, as every other writer does: no
 * deadlocks between workers (test/store/jobs.upsertConcurrent.test.ts).
 */
export async function upsertJobs(
  db: Knex,
  jobs: MirroredJob[],
  opts: { batchSize?: number; concurrency?: number; dependencies?: DependencySets } = {},
): Promise<{ written: number; changedIds: string[] }> {
  const batchSize = Math.max(1, Math.floor(opts.batchSize ?? DEFAULT_UPSERT_BATCH_SIZE));
  const concurrency = db.isTransaction ? 1 : Math.max(1, Math.floor(opts.concurrency ?? DEFAULT_UPSERT_CONCURRENCY));
  const unique = lastPerId(jobs).sort(byJobId);
  const batches: MirroredJob[][] = [];
  for (let i = 0; i < unique.length; i += batchSize) batches.push(unique.slice(i, i + batchSize));
  const changedPerBatch: string[][] = new Array(batches.length);
  let next = 0;
  const runBatches = async (client: PgClientBase): Promise<void> => {
    while (next < batches.length) {
      const index = next++;
      const batch = batches[index];
      const payload = mirroredBatchJson(batch, opts.dependencies);
      // The plain statement when no job of the batch comes with its dependencies (callers other than the sync).
      const sql = opts.dependencies && batch.some((j) => opts.dependencies?.has(j.job_id)) ? UPSERT_WITH_DEPENDENCIES_SQL : UPSERT_SQL;
      try {
        const result = await client.query<{ job_id: string }>(sql, [payload]);
        changedPerBatch[index] = result.rows.map((r) => r.job_id);
      } catch (err) {
        next = batches.length; // stop the other runners too
        throw err;
      }
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(concurrency, batches.length) }, () => withPgConnection(db, runBatches)),
  );
  const changedIds = changedPerBatch.flat();
  return { written: changedIds.length, changedIds };
}
