/**
 * How fresh the mirror is (`job_queue_syncs`, `pipeline_heartbeats`), stamped
 * and aged on Postgres's clock: workers and API replicas on different machines
 * compare times from one clock, and the record outlives a Redis that restarts
 * empty.
 */
import type { Knex } from 'knex';

export const SYNC_ROUND_FINISHED = 'sync_round_finished';

/** A successful sync of the queue ended now. */
export async function recordQueueSynced(db: Knex, queue: string): Promise<void> {
  await db.raw(
    `INSERT INTO job_queue_syncs (job_queue, last_synced_at) VALUES (?, now())
     ON CONFLICT (job_queue) DO UPDATE SET last_synced_at = GREATEST(job_queue_syncs.last_synced_at, EXCLUDED.last_synced_at)`,
    [queue],
  );
}

/** Seconds since each queue's last successful sync; null for a queue never synced. */
export async function queueSyncAges(db: Knex, queues: string[]): Promise<Map<string, number | null>> {
  const ages = new Map<string, number | null>(queues.map((q) => [q, null]));
  if (queues.length === 0) return ages;
  const rows: { job_queue: string; age: number }[] = (
    await db.raw(
      `SELECT job_queue, EXTRACT(EPOCH FROM now() - last_synced_at)::float8 AS age
       FROM job_queue_syncs WHERE job_queue = ANY(?::text[])`,
      [queues],
    )
  ).rows;
  for (const row of rows) ages.set(row.job_queue, Number(row.age));
  return ages;
}

export async function recordHeartbeat(db: Knex, name: string): Promise<void> {
  await db.raw(
    `INSERT INTO pipeline_heartbeats (name, beat_at) VALUES (?, now())
     ON CONFLICT (name) DO UPDATE SET beat_at = GREATEST(pipeline_heartbeats.beat_at, EXCLUDED.beat_at)`,
    [name],
  );
}

/** Seconds since the heartbeat last beat; null when it never did. */
export async function heartbeatAge(db: Knex, name: string): Promise<number | null> {
  const rows: { age: number }[] = (
    await db.raw('SELECT EXTRACT(EPOCH FROM now() - beat_at)::float8 AS age FROM pipeline_heartbeats WHERE name = ?', [name])
  ).rows;
  return rows.length ? Number(rows[0].age) : null;
}
