/**
 * Walks of a sort index in the page's order: the probe from the order's
 * start, walks from a bound, and the page's rows once its ids are known.
 */
import type { Knex } from 'knex';
import type { JobWithInstance } from '../../../types';
import { JOBS_PAGE_SIZE, type SortColumn } from '../../../api/contract';
import { INSTANCE_JOIN } from '../lookups';
import { type SqlPart, WALK_SETTINGS, andAll, withPlannerSettings } from './sql';

/** Rows of the sort index a probe walks before judging where the matches lie (index.ts, CORRELATED_SORTS). */
export const PROBE_ROWS = 3000;

/**
 * The same order, as an expression no index provides: the planner then has
 * to collect the matches (trigram bitmap) and sort them instead of walking.
 * NULL stopped_at stays NULL, so NULLs sort where they did.
 */
export const UNINDEXED_SORT_SQL: Record<SortColumn, string> = {
  id: "(jobs.job_id::text || '')",
  name: "(jobs.job_name || '')",
  status: "(jobs.status::text || '')",
  stopped_at: "(jobs.stopped_at + interval '0 seconds')",
  last_updated: "(jobs.last_updated + interval '0 seconds')",
};

export interface PageQuery {
  sortColumn: SortColumn;
  column: string;
  direction: 'ASC' | 'DESC';
  offset: number;
  tokens: SqlPart;
  /** The same, as a test on each row of a bounded walk (tokenConditions). */
  tokenTest: SqlPart;
  filters: SqlPart;
  /** The date range's first instant (an SQL timestamptz expression). */
  since: SqlPart;
  /** The stored statuses a status filter can keep (TERMINATED is FAILED); null without one. */
  statusKeys: string[] | null;
}

/**
 * What the probe's walk found: the page (its first `need` matches), or fewer
 * matches than that in the whole walk, which then held `walked` rows (fewer
 * than PROBE_ROWS: every row the filters allow was walked).
 */
type ProbeResult = { pageFound: true; ids: string[] } | { pageFound: false; ids: string[]; walked: number };

/**
 * Whether the walk first filters the sort index alone, then reads only the
 * rows it keeps for the token test. By stopped_at ascending the oldest stops
 * come first, mostly outside the date range: in one step each was read from
 * the table to test last_updated, although the index INCLUDEs it. Elsewhere
 * the range is the index's own condition or its rows come early, and reading
 * each kept row by its id (~6 µs) would cost more than it saves.
 */
export const walksIndexFirst = (q: PageQuery) => q.sortColumn === 'stopped_at' && q.direction === 'ASC';

/** How much older than its last update a stop may be and still be found by the walk from the range's start. */
const STOP_SLACK = "interval '24 hours'";

/**
 * Ids and sort values of the rows `where` keeps, in the page's order, at most
 * `limit` of them, as an index walk that stops there.
 *
 * By stopped_at ascending the walk would start at the oldest stop ever
 * recorded and pass every job stopped before the date range (half the table
 * under the default 30 days: ~860 ms on 10,000,000 jobs). Jobs are last
 * updated when they stop or after, so the walk starts 24 hours before the
 * range; the few jobs that stopped earlier than that and were updated inside
 * the range (a late re-describe) come from a partial index of exactly such
 * rows (jobs_stopped_long_before_update), and jobs that never stopped (NULL,
 * last in ascending order) from nullStopParts. The parts are merged; every
 * row is in exactly one of them.
 */
export function orderedWalk(q: PageQuery, where: SqlPart, limit: number): SqlPart {
  const order = `ORDER BY ${q.column} ${q.direction}, jobs.job_id ${q.direction}`;
  if (!walksIndexFirst(q)) {
    return { sql: `SELECT jobs.job_id, ${q.column} AS sort_value FROM jobs WHERE ${where.sql} ${order} LIMIT ?`, bindings: [...where.bindings, limit] };
  }
  const part = (extra: string, bindings: Knex.RawBinding[]): SqlPart => ({
    sql: `(SELECT jobs.job_id, jobs.stopped_at AS sort_value FROM jobs WHERE ${where.sql} AND ${extra}
      ORDER BY jobs.stopped_at ASC, jobs.job_id ASC LIMIT ?)`,
    bindings: [...where.bindings, ...bindings, limit],
  });
  const parts = [
    part(`jobs.stopped_at >= ${q.since.sql} - ${STOP_SLACK}`, q.since.bindings),
    part(`jobs.stopped_at < ${q.since.sql} - ${STOP_SLACK} AND jobs.last_updated - jobs.stopped_at > ${STOP_SLACK}`, q.since.bindings),
    ...nullStopParts(q, where, limit),
  ];
  return mergedParts(q, parts, limit);
}

/** Walks merged in the page's order (each in that order already), at most `limit` rows. */
function mergedParts(q: PageQuery, parts: SqlPart[], limit: number): SqlPart {
  return {
    sql: `SELECT u.job_id, u.sort_value FROM (${parts.map((p) => p.sql).join(' UNION ALL ')}) u
      ORDER BY ${walkOrder(q, 'u')} LIMIT ?`,
    bindings: [...parts.flatMap((p) => p.bindings), limit],
  };
}

/**
 * The page's ids by stopped_at descending when the index is walked (no token,
 * or tokens the probe judged near): the never-stopped jobs first (NULLs sort
 * first descending), from nullStopParts, and only if they do not fill the
 * page, the stopped ones from the index's newest stop.
 * Two statements, because a merge of both walks starts each of them: under a
 * filter that keeps only running jobs the stopped walk then passed every
 * stopped job to find none. The single walk from the index's NULL end passed
 * every never-stopped job under a FAILED filter (1,500,000 index entries,
 * 363 ms on 10,000,000 jobs).
 */
export async function stoppedAtDescendingIds(db: Knex, q: PageQuery, where: SqlPart, need: number): Promise<string[]> {
  const run = async (walk: SqlPart) => (await db.raw<{ rows: { job_id: string }[] }>(walk.sql, walk.bindings)).rows.map((r) => r.job_id);
  const never = await run(mergedParts(q, nullStopParts(q, where, need), need));
  if (never.length >= need) return never;
  const rest = need - never.length;
  const stopped = await run({
    sql: `SELECT jobs.job_id FROM jobs WHERE ${where.sql} AND jobs.stopped_at IS NOT NULL
      ORDER BY jobs.stopped_at DESC, jobs.job_id DESC LIMIT ?`,
    bindings: [...where.bindings, rest],
  });
  return [...never, ...stopped];
}

/**
 * The never-stopped rows `where` keeps, in job_id order, at most `limit`.
 * Without a status filter the NULL end of the stopped_at index holds them in
 * that order. With one, one walk per status the filter can keep, of the
 * partial index of never-stopped jobs keyed by status (jobs_not_stopped_status):
 * a status no never-stopped job has (FAILED) costs nothing, and one walk per
 * status keeps the planner from guessing how many never-stopped jobs a list
 * of statuses holds (it multiplies the two selectivities and sorted a whole
 * queue's index slice instead). `where` still holds the exact filter; the
 * status equality only splits the rows between the parts.
 */
function nullStopParts(q: PageQuery, where: SqlPart, limit: number): SqlPart[] {
  const walk = (extra: string, bindings: Knex.RawBinding[], order: string): SqlPart => ({
    sql: `(SELECT jobs.job_id, NULL::timestamptz AS sort_value FROM jobs WHERE ${where.sql} AND jobs.stopped_at IS NULL${extra}
      ORDER BY ${order} LIMIT ?)`,
    bindings: [...where.bindings, ...bindings, limit],
  });
  if (!q.statusKeys) return [walk('', [], `jobs.stopped_at ${q.direction}, jobs.job_id ${q.direction}`)];
  return q.statusKeys.map((status) => walk(' AND jobs.status = ?', [status], `jobs.job_id ${q.direction}`));
}

/**
 * At most `limit` rows of the sort index in order (from `range` on, if
 * given), each with whether it matches the tokens, in no particular order
 * (callers order by sort_value, job_id). The name index INCLUDEs every filter
 * and token column, so by name the walk reads no table page; by id (the
 * primary key) each row is read.
 */
function walkSql(q: PageQuery, limit: number, range?: SqlPart): SqlPart {
  const where = range ? andAll([q.filters, range]) : q.filters;
  if (walksIndexFirst(q)) {
    const walked = orderedWalk(q, where, limit);
    return {
      sql: `SELECT jobs.job_id, walked.sort_value, (${q.tokenTest.sql}) AS matches
      FROM (${walked.sql}) walked
      JOIN jobs ON jobs.job_id = walked.job_id`,
      bindings: [...q.tokenTest.bindings, ...walked.bindings],
    };
  }
  const order = `ORDER BY ${q.column} ${q.direction}, jobs.job_id ${q.direction} LIMIT ?`;
  return {
    sql: `SELECT jobs.job_id, ${q.column} AS sort_value, (${q.tokenTest.sql}) AS matches FROM jobs WHERE ${where.sql} ${order}`,
    bindings: [...q.tokenTest.bindings, ...where.bindings, limit],
  };
}

/** The walk's own order over its rows as `alias`: a query that keeps it lets the walk stop early. */
export const walkOrder = (q: PageQuery, alias: string) => `${alias}.sort_value ${q.direction}, ${alias}.job_id ${q.direction}`;

/**
 * A bounded walk from the start of the sort order, in one pass that stops at
 * the page's last match: a common token costs a few hundred index rows (~1
 * instead of ~6 ms on 1,000,000 jobs). The window's order is the walk's own,
 * so numbering the rows adds no sort; the walk's last row comes back too
 * (when the walk ends before the page), and its number is how many were walked.
 */
export async function probeSortIndex(db: Knex, q: PageQuery, rows = PROBE_ROWS): Promise<ProbeResult> {
  type Row = { job_id: string; matches: boolean; n: number; last: boolean };
  const need = q.offset + JOBS_PAGE_SIZE;
  const walk = walkSql(q, rows);
  const sql = `SELECT t.job_id, t.matches, t.n, t.last FROM (
       SELECT w.job_id, w.sort_value, w.matches,
              row_number() OVER walk_order AS n, lead(w.job_id) OVER walk_order IS NULL AS last
       FROM (${walk.sql}) w
       WINDOW walk_order AS (ORDER BY ${walkOrder(q, 'w')})
     ) t
     WHERE t.matches OR t.last ORDER BY ${walkOrder(q, 't')} LIMIT ?`;
  const bindings = [...walk.bindings, need + 1];
  // A long walk's limit may be most of the range: the planner would then
  // collect the range and sort it (a queue's 25,000 rows: ~190 ms) rather
  // than walk it and stop at the page (~4,500 rows: ~20 ms).
  const result =
    rows > PROBE_ROWS
      ? await withPlannerSettings<Row>(db, WALK_SETTINGS, sql, bindings)
      : (await db.raw<{ rows: Row[] }>(sql, bindings)).rows;
  const ids = result.filter((r) => r.matches).map((r) => r.job_id).slice(0, need);
  if (ids.length >= need) return { pageFound: true, ids };
  const last = result.find((r) => r.last);
  return { pageFound: false, ids, walked: last ? Number(last.n) : 0 };
}

export const PAGE_ROWS_SQL = (column: string, direction: string) => `
    SELECT jobs.*, inst.instance_id, inst.public_ip, inst.private_ip
    FROM page JOIN jobs ON jobs.job_id = page.job_id ${INSTANCE_JOIN}
    ORDER BY ${column} ${direction}, jobs.job_id ${direction}`;

/**
 * The first `need` ids in name order, walking the name index in one process.
 * Left to itself, at 10,000,000 jobs the planner does walk it for one queue
 * of 20 + RUNNING, but in parallel: each worker walks its own share of the
 * index pages until the merge has the page, and reads ahead of it, so the
 * three processes read 176,000 entries where one reads 94,000 (EXPLAIN
 * ANALYZE on 2 loaded cores: 144–197 ms; one process: 66–127 ms).
 * Sorting is disabled too, for this one statement (its transaction), so the
 * order can only come from the index. The page's rows are read by pageRows,
 * whose own sort of 100 rows is left alone.
 */
export async function nameWalkIds(db: Knex, q: PageQuery, where: SqlPart, need: number, settings = SERIAL_WALK_SETTINGS): Promise<string[]> {
  const rows = await withPlannerSettings<{ job_id: string }>(
    db,
    settings,
    `SELECT jobs.job_id FROM jobs WHERE ${where.sql} ORDER BY ${q.column} ${q.direction}, jobs.job_id ${q.direction} LIMIT ?`,
    [...where.bindings, need],
  );
  return rows.map((r) => r.job_id);
}

const SERIAL_WALK_SETTINGS = { enable_sort: 'off', max_parallel_workers_per_gather: '0' };

/**
 * A walk of the name index expected to run to its range's end (no match
 * there, mostly): split with a parallel worker, which then reads nothing
 * ahead of the page, since there is none (310,000 entries on 2 cores:
 * ~175 -> ~120 ms; two workers and the leader on 2 cores were no faster).
 * The planner would not start a worker for it by itself.
 */
export const WALK_TO_END_SETTINGS = { enable_sort: 'off', parallel_setup_cost: '0', parallel_tuple_cost: '0', max_parallel_workers_per_gather: '1' };

/** The page's rows and instance info, given the ids of every match up to the page's end, in order. */
export async function pageRows(db: Knex, q: PageQuery, orderedIds: string[]): Promise<JobWithInstance[]> {
  const rows = await db.raw<{ rows: JobWithInstance[] }>(
    `WITH page AS (SELECT unnest(?::text[]) AS job_id) ${PAGE_ROWS_SQL(q.column, q.direction)}`,
    [orderedIds.slice(q.offset, q.offset + JOBS_PAGE_SIZE)],
  );
  return rows.rows;
}

/** The first `need` matches of a walk of at most `rows` rows from `bound` on; the walk stops as soon as it has them. */
export async function firstMatchesFrom(db: Knex, q: PageQuery, range: string, bound: string, need: number, rows = PROBE_ROWS): Promise<string[]> {
  const walk = walkSql(q, rows, { sql: range, bindings: [bound] });
  const result = await db.raw<{ rows: { job_id: string }[] }>(
    `SELECT w.job_id FROM (${walk.sql}) w
     WHERE w.matches ORDER BY ${walkOrder(q, 'w')} LIMIT ?`,
    [...walk.bindings, need],
  );
  return result.rows.map((r) => r.job_id);
}
