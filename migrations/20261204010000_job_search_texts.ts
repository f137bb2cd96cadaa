import type { Knex } from 'knex';

/**
 * A token sorted by name where a whole name cluster starts with it (`ingest`,
 * `etl`, `sync` by name at 10,000,000 jobs: 1-9.5 s p95). The split search
 * walks the cluster in name order and collects the matches sorting before
 * (or after) it; proving there are none read the token's whole candidate list
 * from trgm_idx_jobs, i.e. the cluster itself (an eighth of the table).
 *
 * `job_search_texts` holds, per job, the searched text without the name's
 * first character: `job_id SEP substr(job_name, 2) SEP job_queue SEP image`.
 * A name that merely starts with the token is then no candidate of its
 * trigram index; those names are found by range scans of the name index
 * instead (search/nameCluster.ts, searchAroundTokenPrefix). The separator is a space:
 * the API splits a search on whitespace, so no token holds one, and a token
 * can never match across two columns here (without separators, `etl` had
 * 15,683 false candidates at 2,000,000 jobs: ids ending in `e` + names `tl-`).
 *
 * Written like job_command_lines (see its migration): a copy kept by
 * triggers, only when a job is inserted, its name, queue or image changes
 * (the upsert rewrites them at each describe; WHEN: no call unless one
 * differs, which is rare), or it is deleted. Status changes are non-HOT
 * updates of `jobs`, so an index there would get an entry at every change;
 * here a job is indexed once. job_id is the key every writer conflicts on,
 * never changed, and not in the WHEN: a trigger condition on it would stop
 * the schema migration from widening the column on an adopted Go database.
 *
 * On an existing mirror or an adopted Go database the copy is filled here,
 * in batches with progress on stderr (about 10 minutes at 10,000,000 jobs,
 * mostly the index build; bench/README.md has the measured time).
 */

const SEARCH_TEXT_SQL = (t: string) =>
  `${t}.job_id || ' ' || substr(${t}.job_name, 2) || ' ' || ${t}.job_queue || ' ' || ${t}.image`;

const TRIGGERS: [name: string, definition: string][] = [
  ['job_search_texts_insert',
    'AFTER INSERT ON jobs REFERENCING NEW TABLE AS new_jobs FOR EACH STATEMENT EXECUTE FUNCTION job_search_texts_insert()'],
  ['job_search_texts_update',
    `AFTER UPDATE ON jobs FOR EACH ROW WHEN (
      OLD.job_name IS DISTINCT FROM NEW.job_name OR OLD.job_queue IS DISTINCT FROM NEW.job_queue OR OLD.image IS DISTINCT FROM NEW.image
    ) EXECUTE FUNCTION job_search_texts_update()`],
  ['job_search_texts_delete',
    'AFTER DELETE ON jobs REFERENCING OLD TABLE AS old_jobs FOR EACH STATEMENT EXECUTE FUNCTION job_search_texts_delete()'],
  ['job_search_texts_truncate', 'AFTER TRUNCATE ON jobs FOR EACH STATEMENT EXECUTE FUNCTION job_search_texts_truncate()'],
];

const FUNCTIONS = [
  `CREATE OR REPLACE FUNCTION job_search_texts_insert() RETURNS trigger AS $body$
  BEGIN
    INSERT INTO job_search_texts (job_id, search_text) SELECT n.job_id, ${SEARCH_TEXT_SQL('n')} FROM new_jobs n
      ON CONFLICT (job_id) DO UPDATE SET search_text = EXCLUDED.search_text
      WHERE job_search_texts.search_text IS DISTINCT FROM EXCLUDED.search_text;
    RETURN NULL;
  END;
  $body$ LANGUAGE plpgsql`,
  `CREATE OR REPLACE FUNCTION job_search_texts_update() RETURNS trigger AS $body$
  BEGIN
    INSERT INTO job_search_texts (job_id, search_text) VALUES (NEW.job_id, ${SEARCH_TEXT_SQL('NEW')})
      ON CONFLICT (job_id) DO UPDATE SET search_text = EXCLUDED.search_text;
    IF NEW.job_id IS DISTINCT FROM OLD.job_id THEN
      DELETE FROM job_search_texts WHERE job_id = OLD.job_id;
    END IF;
    RETURN NULL;
  END;
  $body$ LANGUAGE plpgsql`,
  `CREATE OR REPLACE FUNCTION job_search_texts_delete() RETURNS trigger AS $body$
  BEGIN
    DELETE FROM job_search_texts s USING old_jobs o WHERE s.job_id = o.job_id;
    RETURN NULL;
  END;
  $body$ LANGUAGE plpgsql`,
  `CREATE OR REPLACE FUNCTION job_search_texts_truncate() RETURNS trigger AS $body$
  BEGIN
    TRUNCATE job_search_texts;
    RETURN NULL;
  END;
  $body$ LANGUAGE plpgsql`,
];

/** Rows copied per statement of the backfill: each batch reports its progress. */
const BACKFILL_BATCH = 500_000;

/** Copies every job's text, in job_id order, batch by batch (the triggers already keep new writes). */
async function backfill(knex: Knex): Promise<void> {
  const [{ total }] = (await knex.raw<{ rows: { total: number }[] }>("SELECT reltuples::bigint AS total FROM pg_class WHERE oid = 'jobs'::regclass")).rows;
  const started = Date.now();
  let after = '';
  let copied = 0;
  for (;;) {
    const result = await knex.raw<{ rows: { last: string | null; n: number }[] }>(
      `WITH batch AS (SELECT job_id FROM jobs WHERE job_id > ? ORDER BY job_id LIMIT ?),
       copied AS (
         INSERT INTO job_search_texts (job_id, search_text)
         SELECT j.job_id, ${SEARCH_TEXT_SQL('j')} FROM jobs j JOIN batch USING (job_id)
         ON CONFLICT (job_id) DO NOTHING
       )
       SELECT max(job_id) AS last, count(*)::int AS n FROM batch`,
      [after, BACKFILL_BATCH],
    );
    const { last, n } = result.rows[0];
    if (!last || n === 0) break;
    after = last;
    copied += n;
    if (total > BACKFILL_BATCH) {
      process.stderr.write(`job_search_texts: ${copied} of ~${Math.max(total, copied)} jobs copied (${Math.round((Date.now() - started) / 1000)} s)\n`);
    }
  }
}

export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE EXTENSION IF NOT EXISTS pg_trgm');
  await knex.raw(`CREATE TABLE IF NOT EXISTS job_search_texts (
    job_id varchar(64) NOT NULL PRIMARY KEY,
    search_text text NOT NULL
  )`);
  for (const fn of FUNCTIONS) await knex.raw(fn);
  for (const [name, definition] of TRIGGERS) {
    await knex.raw(`DROP TRIGGER IF EXISTS ${name} ON jobs`);
    await knex.raw(`CREATE TRIGGER ${name} ${definition}`);
  }
  // Filled before its trigram index is built: one sort instead of an index insert per row.
  await backfill(knex);
  const started = Date.now();
  // This transaction only: a larger sort area builds the GIN index in fewer passes.
  await knex.raw("SELECT set_config('maintenance_work_mem', '256MB', true)");
  await knex.raw('CREATE INDEX IF NOT EXISTS job_search_texts_trgm ON job_search_texts USING gin (search_text gin_trgm_ops)');
  await knex.raw('ANALYZE job_search_texts');
  const seconds = (Date.now() - started) / 1000;
  if (seconds > 10) process.stderr.write(`job_search_texts: trigram index built in ${Math.round(seconds)} s\n`);
}

export async function down(knex: Knex): Promise<void> {
  for (const [name] of TRIGGERS) await knex.raw(`DROP TRIGGER IF EXISTS ${name} ON jobs`);
  for (const fn of ['insert', 'update', 'delete', 'truncate']) await knex.raw(`DROP FUNCTION IF EXISTS job_search_texts_${fn}()`);
  await knex.raw('DROP TABLE IF EXISTS job_search_texts');
}
