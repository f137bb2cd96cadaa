import type { Knex } from 'knex';

/**
 * How fresh the mirror is, on Postgres's own clock (one clock for every
 * worker and API replica, and it survives a Redis that comes back empty):
 * - `job_queue_syncs`: when each queue was last synced successfully. The
 *   timeout killer and the terminator act on no queue synced longer ago than
 *   three sync periods.
 * - `pipeline_heartbeats`: named moments of the pipeline; `sync_round_finished`
 *   is when a sync round last finished (/readyz, the round age gauge).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`CREATE TABLE IF NOT EXISTS job_queue_syncs (
    job_queue text PRIMARY KEY,
    last_synced_at timestamptz NOT NULL
  )`);
  await knex.raw(`CREATE TABLE IF NOT EXISTS pipeline_heartbeats (
    name varchar(64) PRIMARY KEY,
    beat_at timestamptz NOT NULL
  )`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS pipeline_heartbeats');
  await knex.raw('DROP TABLE IF EXISTS job_queue_syncs');
}
