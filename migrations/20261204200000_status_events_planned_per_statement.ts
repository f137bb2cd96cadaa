import type { Knex } from 'knex';

/**
 * The status trigger of UPDATE statements plans its join of the transition
 * tables for each statement, with the statement's row counts.
 *
 * PL/pgSQL keeps one plan per session for a statement without parameters,
 * made at its first run. Transition tables have no statistics: the planner
 * takes the row count they hold at that moment. The first run on a pooled
 * connection is often an INSERT .. ON CONFLICT of new jobs, which fires the
 * UPDATE trigger with empty transition tables; the plan made then is a
 * nested loop, and every later batch of that connection compared each new
 * row with each old one: a 1,000-job batch 1,000,000 comparisons, a
 * 5,200-row UPDATE 27,040,000 (2.6 s instead of ~5 ms). EXECUTE plans the
 * statement anew each time (a fraction of a millisecond a batch), with the
 * real counts: a hash or merge join.
 *
 * The stats marks' FULL JOIN (20261203090000) cannot become a nested loop,
 * and the other statement triggers read one transition table only.
 */
const FUNCTION = 'job_status_events_after_update';

const CHANGED_STATUS = `SELECT n.job_id FROM new_jobs n JOIN old_jobs o ON o.job_id = n.job_id
       WHERE n.status IS DISTINCT FROM o.status`;

const RECORD_AND_NOTIFY = `WITH recorded AS (
        INSERT INTO job_status_events (job_id, updated)
          SELECT job_id, now() FROM (${CHANGED_STATUS}) changed
          ON CONFLICT (job_id) DO UPDATE SET updated = now()
          RETURNING job_id
      )
      SELECT count(pg_notify('job_status_events', job_id)) FROM recorded`;

/** The trigger function running `run` (PL/pgSQL that sets `notified`). */
function triggerFunction(run: string): string {
  return `
    CREATE OR REPLACE FUNCTION ${FUNCTION}() RETURNS trigger AS $body$
    DECLARE
      notified bigint;
    BEGIN
      ${run};
      RETURN NULL;
    END;
    $body$ LANGUAGE plpgsql`;
}

export async function up(knex: Knex): Promise<void> {
  await knex.raw(triggerFunction(`EXECUTE $sql$ ${RECORD_AND_NOTIFY} $sql$ INTO notified`));
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(triggerFunction(`${RECORD_AND_NOTIFY} INTO notified`));
}
