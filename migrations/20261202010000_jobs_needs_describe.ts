import type { Knex } from 'knex';

/**
 * Events are hints: a row an event created or moved holds only what events may
 * write (status, times, reason, exit code, attempts) and waits for DescribeJobs
 * to confirm the rest. `needs_describe` marks such rows; the next sync round
 * describes them (by queue, through the partial index) and clears it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE jobs ADD COLUMN IF NOT EXISTS needs_describe BOOLEAN NOT NULL DEFAULT false');
  await knex.raw('CREATE INDEX IF NOT EXISTS jobs_needs_describe ON jobs (job_queue) WHERE needs_describe');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS jobs_needs_describe');
  await knex.raw('ALTER TABLE jobs DROP COLUMN IF EXISTS needs_describe');
}
