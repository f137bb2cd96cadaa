import type { Knex } from 'knex';

/**
 * A search token also finds jobs by the words of their status reason and
 * command line (every OutOfMemoryError, a script name): a GIN index of those
 * words. The expression is src/store/jobs/search.ts's REASON_WORDS_SQL
 * (jobs. prefixes dropped); they must stay identical for the index to serve.
 * bench/README.md, Store section, has what it costs on write.
 */
const NAME = 'jobs_reason_command_words';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    `CREATE INDEX IF NOT EXISTS ?? ON jobs USING gin
     (to_tsvector('simple', regexp_replace(COALESCE(status_reason, '') || ' ' || command_line, '[^[:alnum:]]+', ' ', 'g')))`,
    [NAME],
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS ??', [NAME]);
}
