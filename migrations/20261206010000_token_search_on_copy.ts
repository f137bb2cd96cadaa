import type { Knex } from 'knex';

/**
 * Search tokens are looked up in the insert-only copy `job_search_texts`, and
 * `trgm_idx_jobs` (the Go original's trigram index on `jobs`) is dropped.
 *
 * No status change of a job is a HOT update (`status` and `last_updated` are
 * indexed), so every index of `jobs` gets an entry for every new row version.
 * For the trigram index that is ~90 trigrams per version (id, name, queue
 * and image), and merging them into its posting trees was a quarter of a
 * changed batch's time (bench/README.md, "The store at 10,000,000 jobs").
 * The copy is written when a job is inserted, or its name, queue or image
 * changes, never at a status change.
 *
 * The copy gets the job's name as a column of its own: `search_text` keeps
 * id, queue and image only, which the name-cluster split reads through
 * `job_search_texts_trgm` (migration 20261205010000), and a second trigram
 * index covers the text a token is searched in: `search_text SEP job_name`
 * (search/conditions.ts writes that expression as is, so the planner uses
 * the index). A space separates the columns: no token holds one.
 *
 * On an existing mirror or an adopted Go database the copy is rewritten in
 * batches with progress on stderr and both indexes built after it
 * (bench/README.md has the time at 10,000,000 jobs).
 */

type TextSql = (t: string) => string;

const TEXT_WITHOUT_NAME: TextSql = (t) => `${t}.job_id || ' ' || ${t}.job_queue || ' ' || ${t}.image`;

/** The index the search's token lookups use; its expression is TOKEN_TEXT_SQL of search/conditions.ts. */
const TOKEN_INDEX = "CREATE INDEX job_search_texts_tokens_trgm ON job_search_texts USING gin ((search_text || ' ' || job_name) gin_trgm_ops)";
const NAME_TAIL_INDEX = 'CREATE INDEX job_search_texts_trgm ON job_search_texts USING gin (search_text gin_trgm_ops)';
const JOBS_TRIGRAM_INDEX = 'CREATE INDEX IF NOT EXISTS trgm_idx_jobs ON jobs USING gin ((job_id || job_name || job_queue || image) gin_trgm_ops)';

/** Names are inserted in one order (byte order), so two writers of new names never wait on each other in a cycle. */
const INSERT_NAMES = `INSERT INTO job_names (job_name)
        SELECT d.job_name FROM (SELECT DISTINCT n.job_name FROM new_jobs n) d ORDER BY d.job_name COLLATE "C"
        ON CONFLICT (job_name) DO NOTHING;`;

/** The copy's insert and update triggers' functions, with the name column (`withName`) or as before. */
function functions(withName: boolean): string[] {
  const columns = withName ? 'job_id, search_text, job_name' : 'job_id, search_text';
  const values = (t: string) => `${t}.job_id, ${TEXT_WITHOUT_NAME(t)}${withName ? `, ${t}.job_name` : ''}`;
  const set = withName ? 'search_text = EXCLUDED.search_text, job_name = EXCLUDED.job_name' : 'search_text = EXCLUDED.search_text';
  const differs = withName
    ? '(job_search_texts.search_text, job_search_texts.job_name) IS DISTINCT FROM (EXCLUDED.search_text, EXCLUDED.job_name)'
    : 'job_search_texts.search_text IS DISTINCT FROM EXCLUDED.search_text';
  return [
    `CREATE OR REPLACE FUNCTION job_search_texts_insert() RETURNS trigger AS $body$
    BEGIN
      INSERT INTO job_search_texts (${columns}) SELECT ${values('n')} FROM new_jobs n
        ON CONFLICT (job_id) DO UPDATE SET ${set}
        WHERE ${differs};
      ${INSERT_NAMES}
      RETURN NULL;
    END;
    $body$ LANGUAGE plpgsql`,
    `CREATE OR REPLACE FUNCTION job_search_texts_update() RETURNS trigger AS $body$
    BEGIN
      INSERT INTO job_search_texts (${columns}) SELECT ${values('NEW')}
        ON CONFLICT (job_id) DO UPDATE SET ${set};
      IF NEW.job_id IS DISTINCT FROM OLD.job_id THEN
        DELETE FROM job_search_texts WHERE job_id = OLD.job_id;
      END IF;
      INSERT INTO job_names (job_name) VALUES (NEW.job_name) ON CONFLICT (job_name) DO NOTHING;
      RETURN NULL;
    END;
    $body$ LANGUAGE plpgsql`,
  ];
}

/** Jobs per statement of the rewrite: each batch reports its progress. */
const REWRITE_BATCH = 500_000;

function progress(what: string, started: number): void {
  process.stderr.write(`${what} (${Math.round((Date.now() - started) / 1000)} s)\n`);
}

/**
 * Writes every job's copy again, with its name, in job_id order, batch by batch, into an
 * emptied copy whose indexes are built afterwards (one sort each instead of
 * an index insert per row).
 */
async function rewriteCopy(knex: Knex): Promise<void> {
  const [{ total }] = (await knex.raw<{ rows: { total: number }[] }>("SELECT reltuples::bigint AS total FROM pg_class WHERE oid = 'jobs'::regclass")).rows;
  const started = Date.now();
  await knex.raw('DROP INDEX IF EXISTS job_search_texts_trgm');
  await knex.raw('DROP INDEX IF EXISTS job_search_texts_tokens_trgm');
  await knex.raw('TRUNCATE job_search_texts');
  let after = '';
  let copied = 0;
  for (;;) {
    const result = await knex.raw<{ rows: { last: string | null; n: number }[] }>(
      `WITH batch AS (SELECT job_id FROM jobs WHERE job_id > ? ORDER BY job_id LIMIT ?),
       copied AS (
         INSERT INTO job_search_texts (job_id, search_text, job_name)
         SELECT j.job_id, ${TEXT_WITHOUT_NAME('j')}, j.job_name FROM jobs j JOIN batch USING (job_id)
       )
       SELECT max(job_id) AS last, count(*)::int AS n FROM batch`,
      [after, REWRITE_BATCH],
    );
    const { last, n } = result.rows[0];
    if (!last || n === 0) break;
    after = last;
    copied += n;
    if (total > REWRITE_BATCH) progress(`job_search_texts: ${copied} of ~${Math.max(total, copied)} jobs rewritten`, started);
  }
  // This transaction only: a larger sort area builds a GIN index in fewer passes.
  await knex.raw("SELECT set_config('maintenance_work_mem', '256MB', true)");
  await knex.raw(NAME_TAIL_INDEX);
  if (total > REWRITE_BATCH) progress('job_search_texts: id, queue and image indexed', started);
  await knex.raw(TOKEN_INDEX);
  if (total > REWRITE_BATCH) progress('job_search_texts: tokens indexed', started);
  await knex.raw('ANALYZE job_search_texts');
}

export async function up(knex: Knex): Promise<void> {
  await knex.raw("ALTER TABLE job_search_texts ADD COLUMN IF NOT EXISTS job_name text NOT NULL DEFAULT ''");
  // The triggers keep the name from here on; the rewrite below reads every job after.
  for (const fn of functions(true)) await knex.raw(fn);
  await rewriteCopy(knex);
  await knex.raw('DROP INDEX IF EXISTS trgm_idx_jobs');
}

export async function down(knex: Knex): Promise<void> {
  for (const fn of functions(false)) await knex.raw(fn);
  await knex.raw('DROP INDEX IF EXISTS job_search_texts_tokens_trgm');
  await knex.raw('ALTER TABLE job_search_texts DROP COLUMN IF EXISTS job_name');
  await knex.raw("SELECT set_config('maintenance_work_mem', '256MB', true)");
  await knex.raw(JOBS_TRIGRAM_INDEX);
}
