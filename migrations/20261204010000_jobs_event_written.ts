import type { Knex } from 'knex';

/**
 * Rows written from an EventBridge "Batch Job State Change" event read from
 * SQS carry the whole job description the event holds (AWS's own, but not
 * what AWS's API said just before): `event_written` marks them until a
 * ListJobs summary agrees with them or a DescribeJobs rewrites them. Whatever
 * acts on AWS or opens something by a mirror field describes such a row
 * first (docs/pipeline.md, "Events from SQS"). IF NOT EXISTS: an adopted Go
 * database takes it like ours.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE jobs ADD COLUMN IF NOT EXISTS event_written BOOLEAN NOT NULL DEFAULT false');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE jobs DROP COLUMN IF EXISTS event_written');
}
