/**
 * How many jobs a search matches (GET /api/v1/jobs/count): exact up to a
 * bound, the planner's estimate beyond it, so a count never reads millions
 * of rows.
 */
import type { Knex } from 'knex';
import type { JobSearch } from '../../types';
import { commandIndexPatterns, searchWhere } from './search';
import { withLocalSettings } from '../db';

/** Counted exactly up to this many matches. */
export const COUNT_EXACT_UP_TO = 10_000;
/** A count that takes longer than this (a short token over a wide range) answers the estimate instead. */
export const COUNT_BUDGET_MS = 250;

export interface JobCount {
  /** Matching jobs: exact when `exact`, otherwise an estimate (at least COUNT_EXACT_UP_TO + 1 when known to be more). */
  count: number;
  exact: boolean;
}

const QUERY_CANCELED = '57014';

export async function countJobs(db: Knex, search: JobSearch, exactUpTo = COUNT_EXACT_UP_TO): Promise<JobCount> {
  const where = searchWhere(search, await commandIndexPatterns(db, search.commandWords ?? []));
  let atLeast = 0;
  try {
    const n = await withLocalSettings(db, { statement_timeout: String(COUNT_BUDGET_MS) }, async (trx) => {
      const r = await trx.raw<{ rows: { n: number }[] }>(
        `SELECT COUNT(*)::int AS n FROM (SELECT 1 FROM jobs WHERE ${where.sql} LIMIT ?) m`,
        [...where.bindings, exactUpTo + 1],
      );
      return r.rows[0].n;
    });
    if (n <= exactUpTo) return { count: n, exact: true };
    atLeast = n;
  } catch (err) {
    if ((err as { code?: string }).code !== QUERY_CANCELED) throw err;
  }
  const plan = await db.raw<{ rows: { 'QUERY PLAN': { Plan: { 'Plan Rows': number } }[] }[] }>(
    `EXPLAIN (FORMAT JSON) SELECT 1 FROM jobs WHERE ${where.sql}`,
    where.bindings,
  );
  const estimate = Math.round(plan.rows[0]['QUERY PLAN'][0].Plan['Plan Rows']);
  return { count: Math.max(estimate, atLeast), exact: false };
}
