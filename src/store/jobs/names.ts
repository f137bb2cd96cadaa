/**
 * Upkeep of job_names (each job name once, for the search's name-cluster
 * split; see migration 20261205010000): the triggers on `jobs` add names,
 * the cleaner takes out the names its deletes left without a job.
 */
import type { Knex } from 'knex';

/** How long the cleaner waits for the writers in flight during a prune before putting names back regardless. */
const WRITERS_WAIT_MS = 60_000;
const WRITERS_POLL_MS = 50;

/**
 * Deletes the given names (of jobs just deleted, each once) that no job
 * has any more; returns them. A writer inserting a job of such a name
 * meanwhile may have found the name still there and added nothing, its job
 * invisible here until it commits: restoreNamesInUse, after the last prune,
 * puts such names back.
 */
export async function deleteUnusedNames(db: Knex, names: readonly string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const pruned = await db.raw<{ rows: { job_name: string }[] }>(
    `DELETE FROM job_names n WHERE n.job_name = ANY(?::text[])
       AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.job_name = n.job_name)
     RETURNING n.job_name`,
    [[...names]],
  );
  return pruned.rows.map((r) => r.job_name);
}

/**
 * Puts back the pruned names some job has, without taking a lock writers
 * would wait on. Every writer of `jobs` holds a lock on job_names from its
 * trigger's statement to its commit; once the holders seen now have ended,
 * every job a prune could not see is visible, and the names are put back
 * from `jobs` itself (a writer after a prune finds the name gone and adds
 * it). Returns how many names stay gone; `writersStillOpen`: some writer
 * was still open after WRITERS_WAIT_MS and the names were put back without
 * its jobs.
 */
export async function restoreNamesInUse(db: Knex, pruned: readonly string[]): Promise<{ gone: number; writersStillOpen: boolean }> {
  if (pruned.length === 0) return { gone: 0, writersStillOpen: false };
  const writersEnded = await waitForWritersInFlight(db);
  const restored = await db.raw<{ rowCount: number }>(
    `INSERT INTO job_names (job_name)
       SELECT d.job_name FROM (SELECT DISTINCT j.job_name FROM jobs j WHERE j.job_name = ANY(?::text[])) d
       ORDER BY d.job_name COLLATE "C"
     ON CONFLICT (job_name) DO NOTHING`,
    [[...pruned]],
  );
  return { gone: pruned.length - (restored.rowCount ?? 0), writersStillOpen: !writersEnded };
}

/** pg_locks lists every database's locks, and relation ids repeat across databases. */
const THIS_DATABASE = '(SELECT oid FROM pg_database WHERE datname = current_database())';

/**
 * The transactions (virtual ids) holding a lock on job_names in this
 * database, but this connection's; only those of `among` when given.
 */
async function jobNamesLockHolders(db: Knex, among?: readonly string[]): Promise<string[]> {
  const rows = await db.raw<{ rows: { vxid: string }[] }>(
    `SELECT DISTINCT virtualtransaction AS vxid FROM pg_locks
     WHERE locktype = 'relation' AND database = ${THIS_DATABASE} AND relation = 'job_names'::regclass
       AND granted AND pid <> pg_backend_pid() AND (?::text[] IS NULL OR virtualtransaction = ANY(?::text[]))`,
    [among ? [...among] : null, among ? [...among] : null],
  );
  return rows.rows.map((r) => r.vxid);
}

/** Waits until every transaction holding a lock on job_names now has ended; false on timeout. */
async function waitForWritersInFlight(db: Knex): Promise<boolean> {
  const deadline = Date.now() + WRITERS_WAIT_MS;
  let waiting = await jobNamesLockHolders(db);
  while (waiting.length > 0) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, WRITERS_POLL_MS));
    waiting = await jobNamesLockHolders(db, waiting);
  }
  return true;
}
