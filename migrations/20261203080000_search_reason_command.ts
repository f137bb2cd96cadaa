import type { Knex } from 'knex';

/**
 * Search by status reason (`reason:`) and command line (`cmd:`), without
 * making the mirror's writes slower (bench/README.md, Store, has the figures).
 *
 * Every index on `jobs` gets a new entry at each status change (the status and
 * last_updated are indexed, so no update of a job is HOT). An index on the
 * status reason is cheap there: it is short, NULL while a job waits or runs
 * (the partial index then holds nothing), and set about once per job.
 *
 * The command line is long (~100 trigrams) and never changes after a job's
 * first describe, so a trigram index on it in `jobs` would re-index it at
 * every status change for nothing (the batched upsert 11-34 % slower when
 * tried). Its searchable copy lives in `job_command_lines` instead, one row
 * per job, written by triggers only when a job is inserted, its command line
 * changes (WHEN: no call otherwise), or it is deleted; any writer of `jobs`
 * (the sync, events, the cleaner, an adopted Go writer) keeps it exact.
 *
 * On an adopted Go database (or any older mirror) the copy is filled from
 * `jobs` here: minutes at 10,000,000 jobs; docs/migrating.md says to migrate
 * before switching.
 */

const TRIGGERS: [name: string, definition: string][] = [
  ['job_command_lines_insert',
    'AFTER INSERT ON jobs REFERENCING NEW TABLE AS new_jobs FOR EACH STATEMENT EXECUTE FUNCTION job_command_lines_insert()'],
  ['job_command_lines_update',
    'AFTER UPDATE ON jobs FOR EACH ROW WHEN (OLD.command_line IS DISTINCT FROM NEW.command_line) EXECUTE FUNCTION job_command_lines_update()'],
  ['job_command_lines_delete',
    'AFTER DELETE ON jobs REFERENCING OLD TABLE AS old_jobs FOR EACH STATEMENT EXECUTE FUNCTION job_command_lines_delete()'],
  ['job_command_lines_truncate', 'AFTER TRUNCATE ON jobs FOR EACH STATEMENT EXECUTE FUNCTION job_command_lines_truncate()'],
];

const FUNCTIONS = [
  `CREATE OR REPLACE FUNCTION job_command_lines_insert() RETURNS trigger AS $body$
  BEGIN
    INSERT INTO job_command_lines (job_id, command_line) SELECT job_id, command_line FROM new_jobs
      ON CONFLICT (job_id) DO UPDATE SET command_line = EXCLUDED.command_line
      WHERE job_command_lines.command_line IS DISTINCT FROM EXCLUDED.command_line;
    RETURN NULL;
  END;
  $body$ LANGUAGE plpgsql`,
  // Row by row: a command line changes about never (a re-described job that
  // AWS reports differently), and the WHEN keeps every other update from calling it.
  `CREATE OR REPLACE FUNCTION job_command_lines_update() RETURNS trigger AS $body$
  BEGIN
    INSERT INTO job_command_lines (job_id, command_line) VALUES (NEW.job_id, NEW.command_line)
      ON CONFLICT (job_id) DO UPDATE SET command_line = EXCLUDED.command_line;
    IF NEW.job_id IS DISTINCT FROM OLD.job_id THEN
      DELETE FROM job_command_lines WHERE job_id = OLD.job_id;
    END IF;
    RETURN NULL;
  END;
  $body$ LANGUAGE plpgsql`,
  `CREATE OR REPLACE FUNCTION job_command_lines_delete() RETURNS trigger AS $body$
  BEGIN
    DELETE FROM job_command_lines c USING old_jobs o WHERE c.job_id = o.job_id;
    RETURN NULL;
  END;
  $body$ LANGUAGE plpgsql`,
  `CREATE OR REPLACE FUNCTION job_command_lines_truncate() RETURNS trigger AS $body$
  BEGIN
    TRUNCATE job_command_lines;
    RETURN NULL;
  END;
  $body$ LANGUAGE plpgsql`,
];

export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE EXTENSION IF NOT EXISTS pg_trgm');
  await knex.raw(
    'CREATE INDEX IF NOT EXISTS jobs_status_reason_trgm ON jobs USING gin (status_reason gin_trgm_ops) WHERE status_reason IS NOT NULL',
  );
  await knex.raw(`CREATE TABLE IF NOT EXISTS job_command_lines (
    job_id varchar(64) NOT NULL PRIMARY KEY,
    command_line text NOT NULL
  )`);
  for (const fn of FUNCTIONS) await knex.raw(fn);
  for (const [name, definition] of TRIGGERS) {
    await knex.raw(`DROP TRIGGER IF EXISTS ${name} ON jobs`);
    await knex.raw(`CREATE TRIGGER ${name} ${definition}`);
  }
  // Filled before its trigram index is built: one sort instead of an index insert per row.
  await knex.raw(
    'INSERT INTO job_command_lines (job_id, command_line) SELECT job_id, command_line FROM jobs ON CONFLICT (job_id) DO NOTHING',
  );
  await knex.raw('CREATE INDEX IF NOT EXISTS job_command_lines_trgm ON job_command_lines USING gin (command_line gin_trgm_ops)');
  await knex.raw('ANALYZE job_command_lines');
}

export async function down(knex: Knex): Promise<void> {
  for (const [name] of TRIGGERS) await knex.raw(`DROP TRIGGER IF EXISTS ${name} ON jobs`);
  for (const fn of ['insert', 'update', 'delete', 'truncate']) await knex.raw(`DROP FUNCTION IF EXISTS job_command_lines_${fn}()`);
  await knex.raw('DROP TABLE IF EXISTS job_command_lines');
  await knex.raw('DROP INDEX IF EXISTS jobs_status_reason_trgm');
}
