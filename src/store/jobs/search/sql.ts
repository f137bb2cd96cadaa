/**
 * SQL plumbing of the search planner: fragments with their bindings, the
 * planner's estimates, and planner settings scoped to one statement.
 */
import type { Knex } from 'knex';
import { withLocalSettings } from '../../db';

export interface SqlPart {
  sql: string;
  bindings: Knex.RawBinding[];
}

/**
 * One value is written as `=`: the planner can then read the (job_queue,
 * last_updated) index in order, which it cannot do for `= ANY(array)`.
 */
export function inList(column: string, values: readonly string[]): SqlPart {
  if (values.length === 1) return { sql: `${column} = ?`, bindings: [values[0]] };
  return { sql: `${column} = ANY(?::text[])`, bindings: [[...values]] };
}

export function andAll(parts: SqlPart[]): SqlPart {
  if (parts.length === 0) return { sql: 'TRUE', bindings: [] };
  return { sql: parts.map((p) => `(${p.sql})`).join(' AND '), bindings: parts.flatMap((p) => p.bindings) };
}

/**
 * The planner's estimate of the rows each of `wheres` keeps (of `from`, a
 * fixed table expression, never input), from one EXPLAIN (one round trip,
 * nothing run): the arms of a UNION ALL are planned alone, as the children
 * of its Append.
 */
export async function estimatedRowsEach(db: Knex, wheres: SqlPart[], from = 'jobs'): Promise<number[]> {
  type Node = { 'Plan Rows': number; Plans?: Node[] };
  const plan = await db.raw<{ rows: { 'QUERY PLAN': { Plan: Node }[] }[] }>(
    `EXPLAIN (FORMAT JSON) ${wheres.map((w) => `(SELECT 1 FROM ${from} WHERE ${w.sql})`).join(' UNION ALL ')}`,
    wheres.flatMap((w) => w.bindings),
  );
  const root = plan.rows[0]['QUERY PLAN'][0].Plan;
  // One arm is planned without an Append.
  return wheres.length === 1 ? [root['Plan Rows']] : (root.Plans ?? []).map((arm) => arm['Plan Rows']);
}

/**
 * Runs `sql` with planner settings that last only for its transaction.
 *
 * Collecting a common token's matches reads a table page per candidate. With
 * the default random_page_cost (4, i.e. disk) the planner will not also
 * intersect the candidates with the last_updated range; with 1.1 (pages
 * cached, as they are for a table this size on a normal server) it does, and
 * reads only the range's pages: ~210 -> ~150 ms for `ingest` by name on
 * 1,000,000 jobs (rows are written in time order, so the range is clustered).
 */
export async function withPlannerSettings<Row>(
  db: Knex,
  settings: Record<string, string>,
  sql: string,
  bindings: Knex.RawBinding[],
): Promise<Row[]> {
  return withLocalSettings(db, settings, async (trx) => (await trx.raw<{ rows: Row[] }>(sql, bindings)).rows);
}

export const COLLECT_SETTINGS = { random_page_cost: '1.1' };

/** A walk of the sort index, however many rows its limit allows (see probeSortIndex). */
export const WALK_SETTINGS = { enable_bitmapscan: 'off', enable_sort: 'off', enable_seqscan: 'off' };

/**
 * For one side of a split (see searchAroundTokenPrefix) where the copies'
 * candidates cannot be used (sorted by id, or names sorting by linguistic
 * rules): bitmaps only. The tokens' candidates come from the copy's trigram
 * index, and each is looked up in `jobs` with the side's range in the same
 * bitmap condition, so a candidate outside the range reads no page of
 * `jobs`. Left to itself the planner prefers filtering the range's index
 * entries one by one (~2x slower on 1,000,000 jobs, measured when the
 * trigram index was on `jobs`).
 *
 * Ten times the default per-operator cost makes a BitmapAnd read its inputs
 * in the order of their number of entries, the smaller (and so usually
 * emptying) range first. A common token's candidates are a whole name
 * cluster (an eighth of the table for "ingest"); in the default 4 MB of
 * work_mem their bitmap goes lossy and every row of every page it names is
 * read and tested again. 32 MB keeps it exact to a few million jobs; it
 * bounds this one statement's bitmaps, set for its transaction only.
 */
export const BITMAPS_ONLY_SETTINGS = {
  ...COLLECT_SETTINGS,
  enable_indexscan: 'off',
  enable_indexonlyscan: 'off',
  cpu_operator_cost: '0.025',
  work_mem: '32MB',
};
