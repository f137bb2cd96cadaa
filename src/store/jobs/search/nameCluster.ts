/**
 * Words that a cluster of values starts with (`ingest`, `report daily`),
 * sorted by that column: the order is split at the cluster, which is walked,
 * and the matches beside it are collected, from the search copies
 * (job_search_texts, job_names) where names sort by code point.
 */
import type { Knex } from 'knex';
import type { JobSearch } from '../../../types';
import { JOBS_PAGE_SIZE } from '../../../api/contract';
import { ASCII_ONLY, likeSubstring, nonEmpty, tokenConditions, trigramCore, trigramSearchable } from './conditions';
import { BITMAPS_ONLY_SETTINGS, type SqlPart, andAll, estimatedRowsEach, withPlannerSettings } from './sql';
import { type PageQuery, UNINDEXED_SORT_SQL, WALK_TO_END_SETTINGS, firstMatchesFrom, nameWalkIds } from './walks';

/** The smallest string above every string that starts with `prefix` (code point order). */
function prefixEnd(prefix: string): string | null {
  const chars = Array.from(prefix);
  const last = chars.pop();
  const code = last?.codePointAt(0);
  if (code === undefined || code >= 0x10ffff || (code >= 0xd7ff && code < 0xe000)) return null;
  return chars.join('') + String.fromCodePoint(code + 1);
}

/**
 * Users search for the start of a name or id (`ingest`, a job id prefix) and
 * then sort by that column. The matches then sit together in the sort order,
 * at the token, possibly far along it (`ingest` after 37 % of the names).
 * Collecting all of them to sort reads a table page per match (62,000 of
 * them: ~200 ms on 1,000,000 jobs). Instead the order is split at the token:
 * the rows from the token on are walked in order (the cluster gives the page
 * within a few hundred rows), and only the matches before it are collected
 * (by name, from the search copies' candidates in that range; otherwise the
 * token's lookup with that range of the sort index). The two parts concatenated are
 * the exact order whatever the data; if the walk does not find the page, the
 * token is not clustered there and null sends the caller to collect instead.
 * With several tokens, the walk may start further in, at their sub-cluster
 * (subClusterBound); the cluster's part before it is then collected
 * (collectInsideCluster) or walked to its end.
 */
export async function searchAroundTokenPrefix(db: Knex, q: PageQuery, search: JobSearch): Promise<string[] | null> {
  const lowered = nonEmpty(search.tokens).map((t) => t.toLowerCase());
  const prefix = [...lowered].sort((a, b) => b.length - a.length)[0] ?? '';
  const end = prefixEnd(prefix);
  if (!prefix || !end) return null;
  const need = q.offset + JOBS_PAGE_SIZE;
  const ascending = q.direction === 'ASC';
  // ASC: [prefix, ...) is walked, (..., prefix) collected; DESC: (..., end) walked, [end, ...) collected.
  const walkRange = ascending ? `${q.column} >= ?` : `${q.column} < ?`;
  const bound = ascending ? prefix : end;
  const collectRange: NameRange = ascending ? { before: bound } : { from: bound };
  // Several words: from their sub-cluster if there is one (the walk from the
  // cluster's start would pass every name before it), else from the start.
  const inner = lowered.length > 1 ? await subClusterBound(db, q, prefix, lowered) : null;
  let nearIds = inner ? await firstMatchesFrom(db, q, walkRange, inner, need) : [];
  let between: string[] = [];
  if (inner && nearIds.length >= need) {
    const leadIn: [string, string] = ascending ? [bound, inner] : [inner, bound];
    between =
      (await collectInsideCluster(db, q, search, prefix, leadIn, need)) ?? (await walkInsideCluster(db, q, search, prefix, leadIn, need));
  } else {
    nearIds = await firstMatchesFrom(db, q, walkRange, bound, need);
    // Some matches but not the page: the cluster holds them sparser than a
    // page per PROBE_ROWS (`report team-7` by name at 10M: one in 30, 96 of
    // 100 in the first 3,000 rows). Collecting instead read every job of the
    // words' candidates (13 s); the walk goes on, stopping at the page.
    if (nearIds.length > 0 && nearIds.length < need) nearIds = await firstMatchesFrom(db, q, walkRange, bound, need, CLUSTER_WALK_ROWS);
    if (nearIds.length < need) return null;
  }
  // By name, the copies give only candidates inside the collected range,
  // where the cluster's names never are (its other cases sort apart and are
  // in it); a trigram lookup of the whole text hands over every one, each
  // then refused by the range (an eighth of the table for `ingest`: 1-9.5 s
  // at 10,000,000 jobs).
  const before =
    q.sortColumn === 'name' && ASCII_ONLY.test(prefix) && (await nameOrderIsCodePoint(db))
      ? await collectFromCandidates(db, q, prefix, collectRange, need)
      : await collectWithBitmaps(db, q, nameRangeOn(q.column, collectRange), need);
  return [...before, ...between, ...nearIds].slice(0, need);
}

/** How far a walk in a cluster that holds some of the matches goes on for the page. */
const CLUSTER_WALK_ROWS = 50_000;

/** What AWS allows between the words of a job name (letters, digits, `-`, `_`), and nothing. */
const NAME_SEPARATORS = ['-', '_', ''];

/** A sub-cluster worth walking to holds at least a page of names, by the planner's estimate. */
const SUB_CLUSTER_ROWS = JOBS_PAGE_SIZE;

/**
 * Two common tokens by name (`report daily`): the names starting with the
 * longer one hold the other's matches further in, at a sub-cluster
 * (`report-daily-…` after every `report-adhoc-…`, a quarter of the cluster:
 * ~310,000 index rows at 10,000,000 jobs to walk). The sub-cluster is the
 * prefix joined to another token by a separator a name may hold, the one the
 * planner's statistics give the most names; the walk starts there (by name
 * ASC; where it ends, DESC). The part of the cluster before it must still
 * be searched: a trigram lookup of the whole text cannot prove it empty
 * cheaply (both words are common: 365 ms with the name range), the
 * copies of distinct names and of ids, queues and images can
 * (collectInsideCluster). Null when no such range holds a page of names by
 * the estimate.
 */
async function subClusterBound(db: Knex, q: PageQuery, prefix: string, tokens: readonly string[]): Promise<string | null> {
  if (q.sortColumn !== 'name') return null;
  const starts = tokens
    .filter((t) => t !== prefix && t.length > 0 && ASCII_ONLY.test(t))
    .flatMap((t) => NAME_SEPARATORS.map((sep) => prefix + sep + t))
    .filter((start) => prefixEnd(start) !== null);
  if (starts.length === 0) return null;
  const ranges = starts.map((start): SqlPart => ({ sql: 'jobs.job_name >= ? AND jobs.job_name < ?', bindings: [start, prefixEnd(start)] }));
  const estimates = await estimatedRowsEach(db, ranges);
  if (estimates.length !== starts.length) return null; // an arm the planner proved empty was dropped: no way to tell which
  const best = estimates.reduce((bestIndex, rows, i) => (rows > estimates[bestIndex] ? i : bestIndex), 0);
  if (estimates[best] < SUB_CLUSTER_ROWS) return null;
  return q.direction === 'ASC' ? starts[best] : prefixEnd(starts[best]);
}

/**
 * The first `need` matches with a name in [low, high), inside the cluster
 * of names starting with `prefix`, in order, walking it. Every name there
 * starts with the prefix when names sort by code point, so only the other
 * words are tested then (a linguistic order may put `re-port-a` there).
 */
async function walkInsideCluster(
  db: Knex,
  q: PageQuery,
  search: JobSearch,
  prefix: string,
  [low, high]: [string, string],
  need: number,
): Promise<string[]> {
  const tested = (await nameOrderIsCodePoint(db)) ? search.tokens.filter((t) => t.toLowerCase() !== prefix) : search.tokens;
  const others = tokenConditions({ ...search, tokens: tested }, true);
  const where = andAll([others, q.filters, { sql: `${q.column} >= ? AND ${q.column} < ?`, bindings: [low, high] }]);
  return nameWalkIds(db, q, where, need, WALK_TO_END_SETTINGS);
}

/** The first `need` matches inside `range`, in order, collected with bitmaps (the tokens' lookup in the copy, the range). */
async function collectWithBitmaps(db: Knex, q: PageQuery, range: SqlPart, need: number): Promise<string[]> {
  const where = andAll([q.tokens, q.filters, range]);
  const rows = await withPlannerSettings<{ job_id: string }>(
    db,
    BITMAPS_ONLY_SETTINGS,
    `SELECT jobs.job_id FROM jobs WHERE ${where.sql}
     ORDER BY ${UNINDEXED_SORT_SQL[q.sortColumn]} ${q.direction}, jobs.job_id ${q.direction} LIMIT ?`,
    [...where.bindings, need],
  );
  return rows.map((r) => r.job_id);
}

/** A range of the name order: names from `from` on, and before `before`. */
interface NameRange {
  from?: string;
  before?: string;
}

function nameRangeOn(column: string, range: NameRange): SqlPart {
  const parts: SqlPart[] = [];
  if (range.from !== undefined) parts.push({ sql: `${column} >= ?`, bindings: [range.from] });
  if (range.before !== undefined) parts.push({ sql: `${column} < ?`, bindings: [range.before] });
  return parts.length > 0 ? andAll(parts) : { sql: 'TRUE', bindings: [] };
}

/**
 * Jobs holding `token` in their id, queue or image: job_search_texts, whose
 * text leaves the name out (see migration 20261205010000).
 */
function textCandidates(token: string): SqlPart {
  return { sql: '(SELECT s.job_id FROM job_search_texts s WHERE s.search_text ILIKE ?)', bindings: [likeSubstring(trigramCore(token))] };
}

/** At most this many name ranges per token: 4 leading letters, each either case. */
const MAX_CASE_VARIANTS = 16;

/**
 * Every upper/lower-case spelling of the token's start (ASCII), as long a
 * start as MAX_CASE_VARIANTS allows: a name starting with the token in any
 * case starts with one of them. A shorter start only widens its range
 * (more names to test exactly), never loses one.
 */
export function caseVariantStarts(token: string): string[] {
  let variants = [''];
  for (const ch of token) {
    const cases = [...new Set([ch.toLowerCase(), ch.toUpperCase()])];
    if (variants.length * cases.length > MAX_CASE_VARIANTS) break;
    variants = variants.flatMap((v) => cases.map((c) => v + c));
  }
  return variants;
}

/**
 * The distinct names inside `range` holding `token` (ASCII, names sorting by
 * code point), from job_names: those holding it past their first character
 * through its trigram index on that part, and those starting with it through
 * one range of its key per case spelling of the token's start. A cluster of
 * names starting with the token (`ingest-…`) is then no candidate unless it
 * lies inside `range`: its trigrams would hand over every one of its names.
 */
function namesHolding(token: string, range: NameRange): SqlPart {
  const inRange = nameRangeOn('n.job_name', range);
  const pattern = likeSubstring(token);
  const arms: SqlPart[] = [
    { sql: `SELECT n.job_name FROM job_names n WHERE substr(n.job_name, 2) ILIKE ? AND ${inRange.sql}`, bindings: [pattern, ...inRange.bindings] },
    ...caseVariantStarts(token).map((start) => ({
      sql: `SELECT n.job_name FROM job_names n WHERE n.job_name >= ? AND n.job_name < ? AND n.job_name ILIKE ? AND ${inRange.sql}`,
      bindings: [start, prefixEnd(start), pattern, ...inRange.bindings],
    })),
  ];
  return { sql: arms.map((a) => `(${a.sql})`).join(' UNION '), bindings: arms.flatMap((a) => a.bindings) };
}

/** The jobs of `names` (a set of names, as SQL) inside `range`, read from the name index. */
function nameCandidates(names: SqlPart, range: NameRange): SqlPart {
  const inRange = nameRangeOn('jobs.job_name', range);
  return {
    sql: `(SELECT jobs.job_id FROM jobs WHERE jobs.job_name IN (${names.sql}) AND ${inRange.sql})`,
    bindings: [...names.bindings, ...inRange.bindings],
  };
}

/**
 * The first `need` matches inside `range` of the name order, in order, among
 * the jobs holding `token` (one of the search's tokens) in their id, queue or
 * image or in their name. Every candidate is then tested exactly, so the
 * answer is the same as a walk's; when there are none, this reads a few
 * index pages.
 */
async function collectFromCandidates(
  db: Knex,
  q: PageQuery,
  token: string,
  range: NameRange,
  need: number,
  names = namesHolding(token, range),
): Promise<string[]> {
  const candidates = [textCandidates(token), nameCandidates(names, range)];
  const where = andAll([q.tokenTest, q.filters, nameRangeOn(q.column, range)]);
  return (
    await withPlannerSettings<{ job_id: string }>(
      db,
      CANDIDATES_SETTINGS,
      `WITH candidates AS MATERIALIZED (${candidates.map((c) => c.sql).join(' UNION ')})
       SELECT jobs.job_id FROM candidates c JOIN jobs ON jobs.job_id = c.job_id
       WHERE ${where.sql}
       ORDER BY jobs.job_name ${q.direction}, jobs.job_id ${q.direction} LIMIT ?`,
      [...candidates.flatMap((c) => c.bindings), ...where.bindings, need],
    )
  ).map((r) => r.job_id);
}

/**
 * Candidates worth collecting inside a cluster, at most: past these the
 * walk is cheaper (a candidate costs a few table reads, an entry of the
 * walk ~0.35 µs).
 */
const MAX_TEXT_CANDIDATES = 10_000;

const MAX_NAME_CANDIDATES = 500;

/**
 * Reading a range's names instead of its jobs pays when names repeat: with
 * fewer jobs per name than this (names unique per job, say), the names are
 * nearly as many as the walk's entries, so the range is walked.
 */
const MIN_JOBS_PER_NAME = 4;

/**
 * The first `need` matches inside [low, high) of a cluster, in order, from
 * the candidates of the longest other token (collectFromCandidates), or null
 * when those are too many by the planner's estimate (the token is in a
 * queue or image name) or by count (many names hold it): the cluster is
 * then walked instead. At 10,000,000 jobs, `report daily` DESC: the 620,000
 * entries of `report-hourly-…` and `report-weekly-…` were walked (~250 ms);
 * their 10,000 names are read instead, and no id, queue or image holds
 * `daily`.
 */
async function collectInsideCluster(
  db: Knex,
  q: PageQuery,
  search: JobSearch,
  prefix: string,
  [low, high]: [string, string],
  need: number,
): Promise<string[] | null> {
  const others = nonEmpty(search.tokens).filter((t) => t.toLowerCase() !== prefix);
  const token = [...others].sort((a, b) => b.length - a.length)[0];
  if (!token || !trigramSearchable([token]) || !ASCII_ONLY.test(token) || !(await nameOrderIsCodePoint(db))) return null;
  const range = { from: low, before: high };
  const [texts] = await estimatedRowsEach(db, [{ sql: 'search_text ILIKE ?', bindings: [likeSubstring(trigramCore(token))] }], 'job_search_texts');
  if (texts === undefined || texts > MAX_TEXT_CANDIDATES) return null;
  const [namesInRange] = await estimatedRowsEach(db, [nameRangeOn('job_name', range)], 'job_names');
  const [jobsInRange] = await estimatedRowsEach(db, [nameRangeOn('jobs.job_name', range)]);
  if (namesInRange === undefined || jobsInRange === undefined || namesInRange * MIN_JOBS_PER_NAME > jobsInRange) return null;
  const held = namesHolding(token, range);
  const names = await db.raw<{ rows: { job_name: string }[] }>(`${held.sql} LIMIT ?`, [...held.bindings, MAX_NAME_CANDIDATES + 1]);
  if (names.rows.length > MAX_NAME_CANDIDATES) return null;
  const found: SqlPart = { sql: 'SELECT unnest(?::text[])', bindings: [names.rows.map((r) => r.job_name)] };
  return collectFromCandidates(db, q, token, range, need, found);
}

/**
 * Each candidate is looked up by its id: few are expected, and the planner,
 * which cannot tell how few, would otherwise hash them against a scan of jobs.
 * It also cannot see that a range is empty, so it may cost the statement
 * past jit_above_cost, and compiling it took 70 ms of a 0.2 ms statement at
 * 10,000,000 jobs.
 */
const CANDIDATES_SETTINGS = { enable_hashjoin: 'off', enable_mergejoin: 'off', enable_seqscan: 'off', jit: 'off' };

const codePointOrder = new WeakMap<Knex, Promise<boolean>>();

/**
 * Whether job_name sorts by code point (C, POSIX, C.UTF-8 by libc): only then
 * does [start, prefixEnd(start)) of the name index hold every name starting
 * with `start`. A linguistic collation (en_US, ICU) skips punctuation at
 * first, so the split keeps the bitmap collect there. Asked once per pool.
 */
function nameOrderIsCodePoint(db: Knex): Promise<boolean> {
  let known = codePointOrder.get(db);
  if (!known) {
    known = db
      .raw<{ rows: { collate: string | null; provider: string | null }[] }>(
        `SELECT CASE WHEN a.attcollation = 100 THEN d.datcollate ELSE c.collcollate END AS collate,
                CASE WHEN a.attcollation = 100 THEN coalesce(to_jsonb(d) ->> 'datlocprovider', 'c') ELSE c.collprovider::text END AS provider
         FROM pg_attribute a JOIN pg_collation c ON c.oid = a.attcollation
         CROSS JOIN pg_database d
         WHERE a.attrelid = 'jobs'::regclass AND a.attname = 'job_name' AND d.datname = current_database()`,
      )
      .then(({ rows }) => rows[0]?.provider === 'c' && /^(C|POSIX|C\.UTF-?8)$/i.test(rows[0].collate ?? ''))
      .catch(() => false);
    codePointOrder.set(db, known);
  }
  return known;
}
