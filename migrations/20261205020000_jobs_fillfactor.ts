import type { Knex } from 'knex';

/**
 * Room on every new page of `jobs` (fillfactor 90) for its rows' next versions.
 *
 * A status change is never a HOT update (`status` and `last_updated` are
 * indexed), and on a packed page its new version did not fit: it went to
 * any page the free-space map offered, and a page filled to the brim long
 * ago often keeps a row's worth of space at its end. At 10M jobs a batch's
 * rows landed on pages across the whole table, so every write dirtied a cold
 * page, the trigram index's entries (kept in heap order) went to cold pages
 * too, and after each checkpoint each of those pages cost a full-page image
 * in the WAL. With 10 % of each new page kept free, a page filled to the
 * brim long ago never qualifies for a new version (it needs the row plus
 * that 10 %), so new versions stay on their page or go to the newest pages
 * (bench/README.md, "The store at 10,000,000 jobs"). Pages written at 90 %
 * can still take a row smaller than their leftover space; see
 * bench/README.md, "Fillfactor 50, measured and not kept".
 *
 * Only pages written from now on get the room; existing ones are left as
 * they are (no rewrite of the table: instant on an adopted database).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE jobs SET (fillfactor = 90)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE jobs RESET (fillfactor)');
}
