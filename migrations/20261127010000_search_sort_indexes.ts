import type { Knex } from 'knex';

/**
 * Indexes for the job search's sort orders (bench/README.md, Store section,
 * has the before/after figures on 1,000,000 jobs).
 *
 * The search pages with ORDER BY <column>, job_id, filtered by a last_updated
 * range and optionally status/queue. Each sortable column gets a btree on
 * (column, job_id) that INCLUDEs the filter columns, so the page's ids come
 * from an index-only scan, and only the 100 rows of the page are read from
 * the table. Go's indexes on stopped_at, status, last_updated and
 * (job_queue, last_updated) are replaced by these under the same names (each
 * new one serves every query the old one did); job_name gets a new one.
 *
 * Rebuilding them on a large adopted table takes a while (minutes for tens of
 * millions of rows); it happens once.
 */

interface IndexDef {
  name: string;
  ours: string;
  /** The Go original's definition, restored on rollback; null = ours only. */
  go: string | null;
}

const INDEXES: IndexDef[] = [
  {
    name: 'jobs_stopped_at_timestamp',
    ours: 'ON jobs (stopped_at, job_id) INCLUDE (last_updated, status, job_queue)',
    go: 'ON jobs (stopped_at)',
  },
  {
    name: 'jobs_status',
    ours: 'ON jobs (status, job_id) INCLUDE (last_updated, job_queue)',
    go: 'ON jobs (status)',
  },
  {
    name: 'jobs_last_updated_timestamp',
    ours: 'ON jobs (last_updated, job_id) INCLUDE (status, job_queue)',
    go: 'ON jobs (last_updated)',
  },
  {
    // A queue filter reads its queue's slice of this index in last_updated
    // order, or sorts that slice by another column, without touching the table.
    name: 'job_queue_timestamp_jobs',
    ours: 'ON jobs (job_queue, last_updated, job_id) INCLUDE (status, job_name, stopped_at)',
    go: 'ON jobs (job_queue, last_updated)',
  },
  {
    name: 'jobs_job_name_job_id',
    ours: 'ON jobs (job_name, job_id) INCLUDE (last_updated, status, job_queue)',
    go: null,
  },
];

export async function up(knex: Knex): Promise<void> {
  for (const ix of INDEXES) {
    await knex.raw('DROP INDEX IF EXISTS ??', [ix.name]);
    await knex.raw(`CREATE INDEX ?? ${ix.ours}`, [ix.name]);
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const ix of INDEXES) {
    await knex.raw('DROP INDEX IF EXISTS ??', [ix.name]);
    if (ix.go) await knex.raw(`CREATE INDEX ?? ${ix.go}`, [ix.name]);
  }
}
