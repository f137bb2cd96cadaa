import type { Knex } from 'knex';

/**
 * job_status_events pages kept half empty (fillfactor 50), so a status
 * change's rewrite of its job's row is a HOT update.
 *
 * The status triggers rewrite one row here per status change (`updated`).
 * `updated` is not indexed, so the rewrite could be HOT (no new primary-key
 * entry), but only if the row's page has room for the new version: packed
 * full (fillfactor 100), a batch's first rewrite on each page found none, and
 * 99 % of them were new tuples elsewhere plus a new index entry. Half-empty
 * pages take the new versions of a batch's rows in place, and pruning frees
 * the old ones for the next batch (bench/README.md, Store: the trigger's
 * share of a changed batch about halved).
 *
 * The table is rewritten in job_id order so its existing pages get the room
 * too (and a batch's rows, sorted by id, share pages): on an adopted Go
 * database or a large mirror that takes a while (~10 million short rows) and
 * holds writes of `jobs` (the triggers wait); docs/migrating.md says to
 * migrate before switching.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE job_status_events SET (fillfactor = 50)');
  // The primary key's index, whatever an adopted database named it.
  const pk = await knex.raw<{ rows: { name: string }[] }>(
    "SELECT conindid::regclass::text AS name FROM pg_constraint WHERE conrelid = 'job_status_events'::regclass AND contype = 'p'",
  );
  if (pk.rows.length === 0) return;
  await knex.raw('CLUSTER job_status_events USING ??', [pk.rows[0].name]);
  // CLUSTER marks the index as the table's clustering one; this was a one-off.
  await knex.raw('ALTER TABLE job_status_events SET WITHOUT CLUSTER');
}

export async function down(knex: Knex): Promise<void> {
  // New pages fill up again; existing ones keep their room until rewritten.
  await knex.raw('ALTER TABLE job_status_events RESET (fillfactor)');
}
