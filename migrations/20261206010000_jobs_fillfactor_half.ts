import type { Knex } from 'knex';

/**
 * Half of every new page of `jobs` kept free (fillfactor 50), so that the
 * jobs of a page, changed together by one statement, keep their new row
 * versions on that page.
 *
 * A status change is never a HOT update (`status` and `last_updated` are
 * indexed), so each change writes a new version of the row. Jobs change in
 * waves: the jobs submitted together sit on the same pages, and one sync
 * batch moves all of them to RUNNING. With 10 % of a page free (fillfactor
 * 90, migration 20261205020000) only the first job's new version fit. The
 * others went to pages that the free-space map offered.
 *
 * On a table filled at 90 %, many old pages have room for exactly one more
 * row, because rows vary in size. So each moved job landed alone on a cold
 * page somewhere in the table. At 10,000,000 jobs a pass of 100,000 changes
 * touched 100,000 pages. After each checkpoint, each of those pages cost a
 * full-page image (8 kB) in the WAL, plus a dirty page to evict.
 *
 * With half of each page free, the new versions of a page's jobs fit on
 * that page. A wave that makes every row much larger (RUNNABLE to STARTING
 * adds the task ARN and the log stream) moves the jobs that do not fit
 * together, to the newest page. A page filled to 50 % never takes another
 * page's rows, which need the row plus half a page. The previous wave's dead
 * versions are pruned when the page is next read, once no transaction on
 * the server can still see them, so the next wave finds its room again.
 *
 * Measured on the 10M database (bench/README.md, "The store at 10,000,000
 * jobs"):
 * - WAL per changed job fell from 14–16 kB to 4.5–6 kB.
 * - Changed jobs/s rose from 11,000–12,500 to 17,000–21,000.
 *
 * The cost is heap space. A job's row takes about twice its size on pages
 * written from now on; bench/README.md gives the bytes per job. Existing
 * pages are left as they are: there is no rewrite of the table, so this is
 * instant on an adopted database.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE jobs SET (fillfactor = 50)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE jobs SET (fillfactor = 90)');
}
