import type { Knex } from 'knex';
import { createRowStatusTriggers } from './20261127000000_batchiepatchie_schema';

/**
 * Status-change triggers once per statement instead of once per row.
 *
 * The pipeline writes jobs in batches of ~1,000 rows per statement; a row
 * trigger ran a PL/pgSQL call, an INSERT .. ON CONFLICT and a pg_notify for
 * each of them. These triggers see the statement's rows as transition tables
 * and do the same work set-wise: one INSERT into job_status_events and the
 * notifications for every job inserted, or whose status changed.
 *
 * The trigger names stay the Go original's, so an adopted database still has
 * exactly one pair; they call functions of their own, and rolling back points
 * them at the row-level functions of the schema migration again.
 */

/**
 * A statement trigger function that records the jobs `changedJobs` selects
 * (from the transition tables) in job_status_events and notifies each.
 */
function recordAndNotify(name: string, changedJobs: string): string {
  return `
    CREATE OR REPLACE FUNCTION ${name}() RETURNS trigger AS $body$
    DECLARE
      notified bigint;
    BEGIN
      WITH recorded AS (
        INSERT INTO job_status_events (job_id, updated)
          SELECT job_id, now() FROM (${changedJobs}) changed
          ON CONFLICT (job_id) DO UPDATE SET updated = now()
          RETURNING job_id
      )
      SELECT count(pg_notify('job_status_events', job_id)) INTO notified FROM recorded;
      RETURN NULL;
    END;
    $body$ LANGUAGE plpgsql`;
}

export async function up(knex: Knex): Promise<void> {
  await knex.raw(recordAndNotify('job_status_events_after_insert', 'SELECT job_id FROM inserted_jobs'));
  await knex.raw(
    recordAndNotify(
      'job_status_events_after_update',
      `SELECT n.job_id FROM new_jobs n JOIN old_jobs o ON o.job_id = n.job_id
       WHERE n.status IS DISTINCT FROM o.status`,
    ),
  );
  await knex.raw('DROP TRIGGER IF EXISTS job_status_update_trigger_insert ON jobs');
  await knex.raw('DROP TRIGGER IF EXISTS job_status_update_trigger_update ON jobs');
  await knex.raw(`
    CREATE TRIGGER job_status_update_trigger_insert AFTER INSERT ON jobs
      REFERENCING NEW TABLE AS inserted_jobs
      FOR EACH STATEMENT EXECUTE FUNCTION job_status_events_after_insert()`);
  // A statement trigger cannot have a WHEN on the rows; the join above keeps
  // only status changes, and an UPDATE that changes no status records nothing.
  await knex.raw(`
    CREATE TRIGGER job_status_update_trigger_update AFTER UPDATE ON jobs
      REFERENCING OLD TABLE AS old_jobs NEW TABLE AS new_jobs
      FOR EACH STATEMENT EXECUTE FUNCTION job_status_events_after_update()`);
}

export async function down(knex: Knex): Promise<void> {
  await createRowStatusTriggers(knex);
  await knex.raw('DROP FUNCTION IF EXISTS job_status_events_after_insert()');
  await knex.raw('DROP FUNCTION IF EXISTS job_status_events_after_update()');
}
