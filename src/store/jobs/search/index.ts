/**
 * The search planner of GET /api/v1/jobs: filters and tokens to SQL
 * (conditions.ts), and the choice between walking a sort index (walks.ts),
 * splitting the order at a cluster of names (nameCluster.ts) and collecting
 * matches. bench/README.md has what each part buys.
 */
import type { Knex } from 'knex';
import type { JobSearch, JobWithInstance } from '../../../types';
import { JOBS_PAGE_SIZE, type SortColumn } from '../../../api/contract';
import { commandIndexPatterns, filterConditions, hasFieldWords, nonEmpty, rangeStart, statusKeys, tokenConditions, trigramSearchable } from './conditions';
import { searchAroundTokenPrefix } from './nameCluster';
import { COLLECT_SETTINGS, type SqlPart, andAll, estimatedRowsEach, inList, withPlannerSettings } from './sql';
import { PAGE_ROWS_SQL, PROBE_ROWS, type PageQuery, UNINDEXED_SORT_SQL, nameWalkIds, orderedWalk, pageRows, probeSortIndex, stoppedAtDescendingIds, walkOrder, walksIndexFirst } from './walks';

const JOB_SEARCH_DEFAULTS: JobSearch = {
  tokens: [],
  queues: [],
  statuses: [],
  dateRange: '30d',
  sortColumn: 'last_updated',
  sortDirection: 'DESC',
  page: 0,
};

/**
 * A search with the defaults of GET /api/v1/jobs (last 30 days, newest
 * update first, first page) for every field not given or undefined.
 */
export function jobSearch(overrides: Partial<JobSearch> = {}): JobSearch {
  const given = Object.entries(overrides).filter(([, value]) => value !== undefined);
  return { ...JOB_SEARCH_DEFAULTS, ...(Object.fromEntries(given) as Partial<JobSearch>) };
}

const SORT_SQL: Record<SortColumn, string> = {
  id: 'jobs.job_id',
  name: 'jobs.job_name',
  status: 'jobs.status',
  stopped_at: 'jobs.stopped_at',
  last_updated: 'jobs.last_updated',
};

/**
 * Sorting by a searched column (id, name) with a token: the token's matches
 * may all sit far along that column's index (`ingest` matches names that
 * start with "ingest", after 37 % of the name index), while the planner
 * assumes they are spread evenly and walks the index, reading the table for
 * each row (~1 s). So such a search first walks at most PROBE_ROWS rows of
 * the index: if they hold the page, that is the answer (a token spread over
 * the order: a few ms). If they hold some matches but not enough, the matches
 * are spread, and the planner's plan is used as before. If they hold none,
 * the token is rare or clustered further on, and when the trigram index can
 * find its matches (some token has a word of 3+ characters; without one the
 * index reads everything): a cluster where values start with the token is
 * walked to (searchAroundTokenPrefix); otherwise few matches are collected
 * with the trigram index and sorted, many are walked to by the planner.
 */
const CORRELATED_SORTS: ReadonlySet<SortColumn> = new Set<SortColumn>(['id', 'name']);

/** A walk expected to read more rows than this to reach the page is worth replacing by collecting few matches. */
const FAR_WALK_ROWS = 50_000;

/**
 * Whether the planner expects few enough matches that collecting them all
 * (a table read each) beats walking the sort index (an index entry each, up
 * to the whole index): up to 5 % of the table, or 2,000 rows.
 */
async function fewMatches(db: Knex, where: SqlPart): Promise<boolean> {
  const plan = await db.raw<{ rows: { 'QUERY PLAN': { Plan: { 'Plan Rows': number } }[] }[] }>(
    `EXPLAIN (FORMAT JSON) SELECT 1 FROM jobs WHERE ${where.sql}`,
    where.bindings,
  );
  const table = await db.raw<{ rows: { reltuples: number }[] }>("SELECT reltuples FROM pg_class WHERE oid = 'jobs'::regclass");
  const matches = plan.rows[0]['QUERY PLAN'][0].Plan['Plan Rows'];
  return matches <= Math.max(2000, 0.05 * Number(table.rows[0]?.reltuples ?? 0));
}

/**
 * A queue filter sorted by name, without tokens: the page comes either from
 * the queue's slice of job_queue_timestamp_jobs in the date range, its
 * matches sorted, or from a walk of the name index (which INCLUDEs every
 * filter column, so the walk reads no table page) that stops at the page.
 * The walk reads about need × table rows / matches entries, the slice its
 * own size; both are index-only and filter each entry at about the same
 * cost (2,000,000 jobs, one queue of 20 + RUNNING: a 72,000-entry walk
 * 57 ms, the 50,000-entry slice 24 ms), so the smaller wins. Both sizes
 * are the planner's estimates: a rare status (a walk of millions of
 * entries) keeps the slice.
 */
async function walksNameIndexPastQueueSlice(db: Knex, q: PageQuery, search: JobSearch): Promise<boolean> {
  if (q.sortColumn !== 'name' || search.queues.length === 0) return false;
  const slice = andAll([inList('jobs.job_queue', search.queues), { sql: `jobs.last_updated >= ${q.since.sql}`, bindings: q.since.bindings }]);
  // TRUE: the whole table, as the planner counts it (reltuples scaled to the table's current size).
  const estimates = await estimatedRowsEach(db, [q.filters, slice, { sql: 'TRUE', bindings: [] }]);
  if (estimates.length !== 3) return false; // an arm the planner proved empty was dropped: keep its plan
  const [matches, sliceRows, rows] = estimates;
  const walkRows = ((q.offset + JOBS_PAGE_SIZE) * rows) / Math.max(matches, 1);
  return walkRows > SHORT_WALK_ROWS && walkRows < sliceRows;
}

/**
 * A walk the planner takes as it is: up to here it walks in one process by
 * itself (a parallel walk's start-up costs more than it saves), in one
 * statement with the page's rows, so deciding it here would only add the
 * settings' transaction and a second statement (~2 ms on a ~4 ms search).
 */
const SHORT_WALK_ROWS = 20_000;

export async function searchJobs(db: Knex, search: JobSearch): Promise<JobWithInstance[]> {
  const column = SORT_SQL[search.sortColumn];
  const direction = search.sortDirection === 'ASC' ? 'ASC' : 'DESC';
  if (!column) throw new Error(`unknown sort column: ${String(search.sortColumn)}`);
  const page = Number.isInteger(search.page) && search.page >= 0 ? search.page : 0;
  const patterns = await commandIndexPatterns(db, search.commandWords ?? []);
  const q: PageQuery = {
    sortColumn: search.sortColumn,
    column,
    direction,
    offset: page * JOBS_PAGE_SIZE,
    tokens: tokenConditions(search, false, patterns),
    tokenTest: tokenConditions(search, true, patterns),
    filters: filterConditions(search),
    since: rangeStart(search),
    statusKeys: statusKeys(search.statuses),
  };
  const hasTokens = q.tokens.bindings.length > 0;
  const where = andAll([q.tokens, q.filters]);
  let orderBy = column;
  const correlated = CORRELATED_SORTS.has(search.sortColumn);
  const searchable = trigramSearchable([...search.tokens, ...nonEmpty(search.reasonWords), ...nonEmpty(search.commandWords)]);
  if (hasTokens && (correlated || searchable)) {
    const probe = await probeSortIndex(db, q);
    const need = q.offset + JOBS_PAGE_SIZE;
    if (probe.pageFound || probe.walked < PROBE_ROWS) return pageRows(db, q, probe.ids);
    const matched = probe.ids.length; // every match of the walk: fewer than a page
    if (correlated) {
      if (matched === 0 && searchable) {
        const ids = await searchAroundTokenPrefix(db, q, search);
        if (ids) return pageRows(db, q, ids);
        // Few matches: collect and sort them. Many: they are common but not at
        // the start; the planner's walk of the sort index reaches the page
        // sooner than reading every match (`daily` by name: ~20 vs ~420 ms).
        if (await fewMatches(db, where)) orderBy = UNINDEXED_SORT_SQL[search.sortColumn];
      }
    } else {
      // Sorting by last_updated, status or stopped_at: the planner walks the
      // sort index when it expects the page early, and it expects that from
      // a rare token too (a 4-digit id fragment: 8,000 matches estimated, 359
      // real, so it read 300,000 rows, ~260 ms). The probe answers a common
      // token. Past it, the probe's hit rate says how far the walk would go:
      // far, and with few matches expected, they are collected and sorted
      // (that fragment: ~10 ms); near, the walk stays (collecting "report" +
      // "team-7" would read 60,000 candidates where the walk reads 25,000).
      const rowsToWalk = (need * probe.walked) / Math.max(matched, 1);
      if (rowsToWalk <= FAR_WALK_ROWS && hasFieldWords(search)) {
        // Near, with reason:/cmd: words: the planner cannot tell how many
        // jobs have them (the command line is in another table), and it
        // collected "reason:OutOfMemory cmd:jobs.etl" (12,000 candidates,
        // ~300 ms on 1,000,000 jobs) where the walk reads 40,000 index rows
        // (~40 ms). So the walk is run here, bounded.
        const walk = await probeSortIndex(db, q, FAR_WALK_ROWS);
        if (walk.pageFound || walk.walked < FAR_WALK_ROWS) return pageRows(db, q, walk.ids);
      }
      // (With reason:/cmd: words, a walk that got here read FAR_WALK_ROWS rows without the page: far.)
      const far = rowsToWalk > FAR_WALK_ROWS || hasFieldWords(search);
      if (far && (await fewMatches(db, where))) orderBy = UNINDEXED_SORT_SQL[search.sortColumn];
    }
  }
  if (!hasTokens && (await walksNameIndexPastQueueSlice(db, q, search))) {
    return pageRows(db, q, await nameWalkIds(db, q, where, q.offset + JOBS_PAGE_SIZE));
  }
  // A walk tests the tokens on each row it reads (the row is at hand); the
  // lookup in the copy is for collecting, and in a walk the planner may
  // instead hash every job the copy gives for a common token.
  const walked = orderBy === column ? andAll([q.tokenTest, q.filters]) : where;
  // Two steps: the page's ids first (an index-only scan of the sort column's
  // covering index when no token needs the text columns), then the 100 rows
  // and their instance info.
  if (orderBy === column && q.sortColumn === 'stopped_at' && direction === 'DESC') {
    return pageRows(db, q, await stoppedAtDescendingIds(db, q, walked, q.offset + JOBS_PAGE_SIZE));
  }
  if (orderBy === column && walksIndexFirst(q)) {
    const walk = orderedWalk(q, walked, q.offset + JOBS_PAGE_SIZE);
    const rows = await db.raw<{ rows: JobWithInstance[] }>(
      `WITH page AS (SELECT o.job_id FROM (${walk.sql}) o ORDER BY ${walkOrder(q, 'o')} LIMIT ? OFFSET ?)
       ${PAGE_ROWS_SQL(column, direction)}`,
      [...walk.bindings, JOBS_PAGE_SIZE, q.offset],
    );
    return rows.rows;
  }
  const sql = `
    WITH page AS (
      SELECT jobs.job_id FROM jobs
      WHERE ${walked.sql}
      ORDER BY ${orderBy} ${direction}, jobs.job_id ${direction}
      LIMIT ? OFFSET ?
    ) ${PAGE_ROWS_SQL(column, direction)}`;
  const bindings = [...walked.bindings, JOBS_PAGE_SIZE, q.offset];
  if (orderBy === column) return (await db.raw<{ rows: JobWithInstance[] }>(sql, bindings)).rows;
  return withPlannerSettings<JobWithInstance>(db, COLLECT_SETTINGS, sql, bindings);
}

export { likeSubstring, trigramCore, commandIndexPatterns, searchWhere, type CommandPatterns } from './conditions';
export { caseVariantStarts } from './nameCluster';
