import type { Knex } from 'knex';

/**
 * Two tokens sorted by name (`report daily` at 10,000,000 jobs: 150–280 ms
 * p95) walked every name of the cluster's part before the words' sub-cluster
 * (`report-hourly-…`, `report-weekly-…`: 620,000 index entries) to prove no
 * match hides there. Names repeat: those 620,000 jobs have 10,000 names.
 *
 * - `job_names` holds each job name once: the names of a range that hold a
 *   token are read from it (a few thousand rows at most) instead of every
 *   job of the range. Its trigram index leaves the name's first character
 *   out, as the copy's text did: names starting with the token are found by
 *   ranges of its key, so a cluster of them (`ingest-…`) is no candidate
 *   where the search has already walked it.
 * - `job_search_texts` now holds only `job_id SEP job_queue SEP image`, so
 *   its trigram index answers "the token is in the id, queue or image"
 *   without the name, whose trigrams made `daily` a quarter of the table.
 *
 * Together they give a token's jobs, in any range of the name order, from
 * two small candidate sets (search/nameCluster.ts, collectFromCandidates).
 * Both are kept by the copy's triggers, called only when a job is inserted
 * or its name, queue or image changes: a status change (the write path's
 * common case) costs nothing more.
 *
 * The triggers only add names: deleting one when its last job goes would
 * race with a writer inserting a job of that name at that moment. The
 * cleaner prunes the names its deletes left without a job, then puts back
 * any that such a writer gave a job (store/jobs/names.ts). A stale name
 * only adds a candidate with no job. TRUNCATE of `jobs` empties it.
 *
 * On an existing mirror the copy is rewritten in batches with progress on
 * stderr (about as long as its first fill; bench/README.md has the time at
 * 10,000,000 jobs).
 */

type TextSql = (t: string) => string;

const TEXT_WITHOUT_NAME: TextSql = (t) => `${t}.job_id || ' ' || ${t}.job_queue || ' ' || ${t}.image`;
const TEXT_WITH_NAME_TAIL: TextSql = (t) => `${t}.job_id || ' ' || substr(${t}.job_name, 2) || ' ' || ${t}.job_queue || ' ' || ${t}.image`;

/** Names are inserted in one order (byte order), so two writers of new names never wait on each other in a cycle. */
const INSERT_NAMES = `INSERT INTO job_names (job_name)
        SELECT d.job_name FROM (SELECT DISTINCT n.job_name FROM new_jobs n) d ORDER BY d.job_name COLLATE "C"
        ON CONFLICT (job_name) DO NOTHING;`;

function functions(text: TextSql, withNames: boolean): string[] {
  return [
    `CREATE OR REPLACE FUNCTION job_search_texts_insert() RETURNS trigger AS $body$
    BEGIN
      INSERT INTO job_search_texts (job_id, search_text) SELECT n.job_id, ${text('n')} FROM new_jobs n
        ON CONFLICT (job_id) DO UPDATE SET search_text = EXCLUDED.search_text
        WHERE job_search_texts.search_text IS DISTINCT FROM EXCLUDED.search_text;
      ${withNames ? INSERT_NAMES : ''}
      RETURN NULL;
    END;
    $body$ LANGUAGE plpgsql`,
    `CREATE OR REPLACE FUNCTION job_search_texts_update() RETURNS trigger AS $body$
    BEGIN
      INSERT INTO job_search_texts (job_id, search_text) VALUES (NEW.job_id, ${text('NEW')})
        ON CONFLICT (job_id) DO UPDATE SET search_text = EXCLUDED.search_text;
      IF NEW.job_id IS DISTINCT FROM OLD.job_id THEN
        DELETE FROM job_search_texts WHERE job_id = OLD.job_id;
      END IF;
      ${withNames ? 'INSERT INTO job_names (job_name) VALUES (NEW.job_name) ON CONFLICT (job_name) DO NOTHING;' : ''}
      RETURN NULL;
    END;
    $body$ LANGUAGE plpgsql`,
    `CREATE OR REPLACE FUNCTION job_search_texts_truncate() RETURNS trigger AS $body$
    BEGIN
      TRUNCATE job_search_texts${withNames ? ', job_names' : ''};
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
 * Writes every job's text again, in job_id order, batch by batch, into an
 * emptied copy whose index is built afterwards (one sort instead of an
 * index insert per row).
 */
async function rewriteTexts(knex: Knex, text: TextSql): Promise<void> {
  const [{ total }] = (await knex.raw<{ rows: { total: number }[] }>("SELECT reltuples::bigint AS total FROM pg_class WHERE oid = 'jobs'::regclass")).rows;
  const started = Date.now();
  await knex.raw('DROP INDEX IF EXISTS job_search_texts_trgm');
  await knex.raw('TRUNCATE job_search_texts');
  let after = '';
  let copied = 0;
  for (;;) {
    const result = await knex.raw<{ rows: { last: string | null; n: number }[] }>(
      `WITH batch AS (SELECT job_id FROM jobs WHERE job_id > ? ORDER BY job_id LIMIT ?),
       copied AS (
         INSERT INTO job_search_texts (job_id, search_text)
         SELECT j.job_id, ${text('j')} FROM jobs j JOIN batch USING (job_id)
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
  // This transaction only: a larger sort area builds the GIN index in fewer passes.
  await knex.raw("SELECT set_config('maintenance_work_mem', '256MB', true)");
  await knex.raw('CREATE INDEX job_search_texts_trgm ON job_search_texts USING gin (search_text gin_trgm_ops)');
  await knex.raw('ANALYZE job_search_texts');
  if (total > REWRITE_BATCH) progress('job_search_texts: rewritten and indexed', started);
}

export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE TABLE IF NOT EXISTS job_names (job_name text NOT NULL PRIMARY KEY)');
  // The triggers keep names from here on; the rewrite below reads every job after.
  for (const fn of functions(TEXT_WITHOUT_NAME, true)) await knex.raw(fn);
  const started = Date.now();
  await knex.raw('INSERT INTO job_names (job_name) SELECT DISTINCT job_name FROM jobs ON CONFLICT (job_name) DO NOTHING');
  await knex.raw('CREATE INDEX IF NOT EXISTS job_names_trgm ON job_names USING gin (substr(job_name, 2) gin_trgm_ops)');
  await knex.raw('ANALYZE job_names');
  if (Date.now() - started > 10_000) progress('job_names: filled and indexed', started);
  await rewriteTexts(knex, TEXT_WITHOUT_NAME);
}

export async function down(knex: Knex): Promise<void> {
  for (const fn of functions(TEXT_WITH_NAME_TAIL, false)) await knex.raw(fn);
  await knex.raw('DROP TABLE IF EXISTS job_names');
  await rewriteTexts(knex, TEXT_WITH_NAME_TAIL);
}
