import type { Knex } from 'knex';

/**
 * The delete triggers of the search copies (job_command_lines,
 * job_search_texts) plan their join with the deleted rows for each
 * statement, as the status trigger does since 20261204200000 (the reason is
 * there: PL/pgSQL keeps the plan of a statement's first run on a connection,
 * and transition tables have no statistics).
 *
 * Here the cached plan is worse: a first run while a copy was small (an
 * empty mirror's first delete, a test's clean-up) keeps a nested loop over a
 * sequential scan of the whole copy for every later delete of that
 * connection; 5,200 deleted jobs took 8 s per copy in a test, and the
 * cleaner's 5,000-job batches on a grown mirror would scan millions of rows
 * each. EXECUTE plans each delete with the rows it has (an index probe or a
 * hash join).
 */
const COPIES: [fn: string, table: string][] = [
  ['job_command_lines_delete', 'job_command_lines'],
  ['job_search_texts_delete', 'job_search_texts'],
];

function deleteFunction(fn: string, table: string, planEachTime: boolean): string {
  const statement = `DELETE FROM ${table} c USING old_jobs o WHERE c.job_id = o.job_id`;
  return `
    CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger AS $body$
    BEGIN
      ${planEachTime ? `EXECUTE $sql$ ${statement} $sql$` : statement};
      RETURN NULL;
    END;
    $body$ LANGUAGE plpgsql`;
}

export async function up(knex: Knex): Promise<void> {
  for (const [fn, table] of COPIES) await knex.raw(deleteFunction(fn, table, true));
}

export async function down(knex: Knex): Promise<void> {
  for (const [fn, table] of COPIES) await knex.raw(deleteFunction(fn, table, false));
}
