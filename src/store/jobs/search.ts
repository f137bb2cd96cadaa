/**
 * The search planner of GET /api/v1/jobs: filters and tokens to SQL, and the
 * choice between walking a sort index and collecting matches.
 *
 * Over 400 lines on purpose: the probe, the walk and the split collect are one
 * plan sharing their SQL fragments and ordering; split apart, each would have
 * to export the others' internals (bench/README.md has what each part buys).
 */
import type { Knex } from 'knex';
import { type JobSearch, type JobWithInstance } from '../../types';
import { JOBS_PAGE_SIZE, type DateRange, type SortColumn } from '../../api/contract';
import { INSTANCE_JOIN } from './lookups';
import { terminatedSql } from './derivedStatus';
import type { DisplayStatus, JobStatus } from '../../domain/jobStatus';

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

const DATE_RANGE_INTERVAL: Record<DateRange, string> = {
  '10m': '10 minutes',
  '1h': '1 hour',
  '1d': '1 day',
  '2d': '2 days',
  '3d': '3 days',
  '7d': '7 days',
  '30d': '30 days',
};

/** ILIKE treats `%`, `_` and `\` specially; a search token means them literally. */
export function likeSubstring(token: string): string {
  return `%${token.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
}

interface SqlPart {
  sql: string;
  bindings: Knex.RawBinding[];
}

/** Letters and digits: what pg_trgm treats as a word. */
const TRIGRAM_WORD = /[\p{L}\p{N}]+/gu;

/**
 * The part of a token given to the trigram index: the token without its
 * single-character words at either end (keeping one separator on each side).
 * Against an ILIKE pattern pg_trgm pads a word with blanks only on a
 * separator's side, so `team-7` ends in the trigram "  7" (any word starting
 * with 7: a third of the hex job ids have one) next to "tea", "eam", "am "
 * that every image has. The index then returned ~43,000 candidates for ~2,000
 * matches, and since the planner does not model such false positives it
 * picked that bitmap plan (~200 ms) over a 30 ms index walk. Any substring of
 * the token is still a necessary condition; the per-column test keeps the
 * exact semantics. Two-character end words stay (" 12" is selective enough),
 * and a token without any longer word is used whole, as before.
 */
export function trigramCore(token: string): string {
  const words = [...token.matchAll(TRIGRAM_WORD)].filter((m) => m[0].length >= 2);
  const first = words[0];
  const last = words[words.length - 1];
  if (!first || !last) return token;
  const start = first.index ?? 0;
  const end = (last.index ?? 0) + last[0].length;
  // One code point each side (never half a surrogate pair).
  const before = Array.from(token.slice(0, start)).pop() ?? '';
  const after = Array.from(token.slice(end))[0] ?? '';
  return before + token.slice(start, end) + after;
}

const ASCII_ONLY = /^[\x00-\x7f]*$/;

/**
 * A token must be a substring of one column. The concatenated ILIKE is the
 * trigram index's expression, so the planner can use trgm_idx_jobs; the
 * per-column test then rejects matches that only exist across a column
 * boundary. It is written with strpos (literal by nature) rather than four
 * more ILIKEs so the planner does not count the token's selectivity twice:
 * that underestimate made it pick bitmap scans over far cheaper index walks.
 *
 * An ASCII token is lower-cased in the "C" collation: ASCII case folding,
 * without the locale's per-character conversion (3x cheaper per row on a
 * C.UTF-8 or en_US database; "report team-7": 100 -> 50 ms on 1,000,000 jobs).
 * AWS allows only ASCII in job ids, job names, queue names and image
 * references, so the answer is the same; a token with other characters keeps
 * the database's full Unicode lower().
 */
function tokenCondition(token: string, perRow: boolean): SqlPart {
  const columns = ['jobs.job_id', 'jobs.job_name', 'jobs.job_queue', 'jobs.image'];
  const ascii = ASCII_ONLY.test(token);
  const collate = ascii ? ' COLLATE "C"' : '';
  const exact: SqlPart = {
    sql: `(${columns.map((c) => `strpos(lower(${c}${collate}), lower(?${collate})) > 0`).join(' OR ')})`,
    bindings: columns.map(() => token),
  };
  // Tested per row, an ASCII token needs only the exact test (it implies the
  // ILIKE, which is there for the index): the ILIKE builds the concatenation
  // for each row, twice the cost of the exact test on a walk of the name index.
  if (perRow && ascii) return exact;
  return {
    sql: `(jobs.job_id || jobs.job_name || jobs.job_queue || jobs.image) ILIKE ? AND ${exact.sql}`,
    bindings: [likeSubstring(trigramCore(token)), ...exact.bindings],
  };
}

/**
 * One value is written as `=`: the planner can then read the (job_queue,
 * last_updated) index in order, which it cannot do for `= ANY(array)`.
 */
function inList(column: string, values: readonly string[]): SqlPart {
  if (values.length === 1) return { sql: `${column} = ?`, bindings: [values[0]] };
  return { sql: `${column} = ANY(?::text[])`, bindings: [[...values]] };
}

function andAll(parts: SqlPart[]): SqlPart {
  if (parts.length === 0) return { sql: 'TRUE', bindings: [] };
  return { sql: parts.map((p) => `(${p.sql})`).join(' AND '), bindings: parts.flatMap((p) => p.bindings) };
}

/**
 * A `reason:` word must be a substring of the status reason, found through
 * the partial trigram index jobs_status_reason_trgm (ILIKE on the word's
 * trigram core, as tokenCondition does; strpos keeps the exact semantics).
 * The database's own lower(): a reason may be any text (a kill reason).
 */
function reasonCondition(word: string, perRow: boolean): SqlPart {
  // Per row, a NULL reason is false at once: NULL AND x would evaluate x (a cmd: lookup) to tell NULL from false.
  return {
    sql: `${perRow ? 'jobs.status_reason IS NOT NULL AND ' : ''}jobs.status_reason ILIKE ? AND strpos(lower(jobs.status_reason), lower(?)) > 0`,
    bindings: [likeSubstring(trigramCore(word)), word],
  };
}

/**
 * `cmd:` words must each be a substring of the command line. In a WHERE they
 * are tested on its copy in job_command_lines (one row per job, with its own
 * trigram index; see its migration for why the command line is not indexed
 * in `jobs`), one EXISTS for all of them: a semi-join, so rare matches are
 * collected from the trigram index. Each word is given to the index as the
 * patterns `patterns` holds for it (commandIndexPatterns), by default its
 * trigram core.
 */
function commandCondition(words: readonly string[], perRow: boolean, patterns?: CommandPatterns): SqlPart {
  const perWord = words.map((w) => patterns?.get(w) ?? [trigramCore(w)]);
  const bindings = words.flatMap((w, i) => [...perWord[i].map(likeSubstring), w]);
  const tests = (column: string) =>
    perWord.map((parts) => `${parts.map(() => `${column} ILIKE ? AND `).join('')}strpos(lower(${column}), lower(?)) > 0`).join(' AND ');
  // Per row, the job's own column (its copy is equal): the walk reads the
  // row's page anyway, in order, where a lookup in the copy is a descent of
  // its key for each row (3,000 of them ~3x slower).
  if (perRow) return { sql: tests('jobs.command_line'), bindings };
  return { sql: `EXISTS (SELECT 1 FROM job_command_lines c WHERE c.job_id = jobs.job_id AND ${tests('c.command_line')})`, bindings };
}

/** Per `cmd:` word, the substrings of it the trigram index is given (each one a necessary condition). */
export type CommandPatterns = ReadonlyMap<string, readonly string[]>;

/** A word in more than this share of command lines (by the planner's statistics) only slows the index down. */
const COMMON_WORD_SHARE = 0.5;

/**
 * The trigram index answers a pattern by walking the posting list of its
 * rarest trigram and skipping through every other trigram's list for each
 * entry, so a trigram in every command line adds work without removing a
 * candidate: `bucket-7/4242` spent 90 % of its time in the lists of
 * "bucket", which every line holds (2,000,000 lines: 36 ms; `/4242` alone
 * 3 ms, the same matches after the exact test). So each `cmd:` word of
 * several words (letters and digits) is split into them, each with the
 * separator beside it (a word's start or end is a trigram of its own), and
 * the planner's estimate of each in job_command_lines (its histogram: common
 * structure such as "python", "bucket" is in most of it) drops the common
 * ones; words with none common, or only common ones, keep their whole core.
 * One EXPLAIN for all words, only when some word has several parts.
 */
export async function commandIndexPatterns(db: Knex, words: readonly string[]): Promise<CommandPatterns | undefined> {
  const split = words.map((w) => ({ word: w, parts: wordParts(w) })).filter((w) => w.parts.length > 1);
  if (split.length === 0) return undefined;
  // Each part's word alone: how common its trigrams are, whatever stands beside it.
  const arms: SqlPart[] = [
    ...split.flatMap((w) => w.parts).map((p) => ({ sql: 'c.command_line ILIKE ?', bindings: [likeSubstring(p.word)] })),
    { sql: 'TRUE', bindings: [] },
  ];
  const estimates = await estimatedRowsEach(db, arms, 'job_command_lines c');
  if (estimates.length !== arms.length) return undefined; // an arm was proven empty and dropped: keep the cores
  const total = Math.max(estimates[estimates.length - 1], 1);
  const patterns = new Map<string, readonly string[]>();
  let next = 0;
  for (const { word, parts } of split) {
    const rare = parts.filter((_, i) => estimates[next + i] / total <= COMMON_WORD_SHARE).map((p) => p.part);
    next += parts.length;
    if (rare.length > 0 && rare.length < parts.length) patterns.set(word, rare);
  }
  return patterns;
}

/** The words (letters and digits, 2 or more) of `text`, each also as a part: with the character before and after it, if any. */
function wordParts(text: string): { word: string; part: string }[] {
  return [...text.matchAll(TRIGRAM_WORD)]
    .filter((m) => m[0].length >= 2)
    .map((m) => {
      const start = m.index ?? 0;
      const end = start + m[0].length;
      const before = Array.from(text.slice(0, start)).pop() ?? '';
      const after = Array.from(text.slice(end))[0] ?? '';
      return { word: m[0], part: before + m[0] + after };
    });
}

const nonEmpty = (words: readonly string[] | undefined) => (words ?? []).filter((w) => w.length > 0);

/** Whether the search has `reason:` or `cmd:` words. */
const hasFieldWords = (search: JobSearch) => nonEmpty(search.reasonWords).length + nonEmpty(search.commandWords).length > 0;

/**
 * Every word's condition. `perRow`: the form a bounded walk tests on each
 * row it reads (the probe's `matches`). There the EXISTS of `cmd:` words
 * would be planned as a hash of every command line matching them (the
 * planner expects the walk to read the whole range): 125,000 rows for a word
 * in one job of 8, ~800 ms on 1,000,000 jobs, where testing the 800 rows
 * walked takes ~5 ms.
 */
function tokenConditions(search: JobSearch, perRow = false, patterns?: CommandPatterns): SqlPart {
  const parts = nonEmpty(search.tokens).map((t) => tokenCondition(t, perRow));
  parts.push(...nonEmpty(search.reasonWords).map((w) => reasonCondition(w, perRow)));
  const commandWords = nonEmpty(search.commandWords);
  if (commandWords.length > 0) parts.push(commandCondition(commandWords, perRow, patterns));
  return andAll(parts);
}

/**
 * Stored statuses as they are; TERMINATED is the FAILED jobs the domain's
 * rule calls terminated. FAILED keeps its stored meaning (the Go original's
 * clients filter on it), so it includes them.
 */
function statusCondition(statuses: readonly DisplayStatus[]): SqlPart {
  const stored = statuses.filter((s): s is JobStatus => s !== 'TERMINATED');
  if (stored.length === statuses.length) return inList('jobs.status', stored);
  if (stored.length === 0) return { sql: terminatedSql('jobs'), bindings: [] };
  const list = inList('jobs.status', stored);
  return { sql: `${list.sql} OR ${terminatedSql('jobs')}`, bindings: list.bindings };
}

/** The stored statuses a status filter can keep, each once (TERMINATED jobs are FAILED); null without a filter. */
function statusKeys(statuses: readonly DisplayStatus[]): string[] | null {
  if (statuses.length === 0) return null;
  return [...new Set(statuses.map((s) => (s === 'TERMINATED' ? 'FAILED' : s)))];
}

/**
 * Top-level jobs only, as the Go original listed (it never mirrored array
 * children): a child is left out unless a token with a colon, which only a
 * child's id has ("<parent>:<index>"), is part of its id, so a search for a
 * child's id still finds it.
 *
 * Written on job_id (children's ids, and only theirs, hold a colon; AWS ids
 * are otherwise letters, digits, dashes and '#'): every sort index has
 * job_id as its second column, so walks stay index-only, and the planner
 * estimates a NOT LIKE from job_id's statistics.
 */
const TOP_LEVEL_SQL = "jobs.job_id NOT LIKE '%:%'";
function topLevelCondition(tokens: readonly string[]): SqlPart {
  const childIdTokens = tokens.filter((t) => /:\d/.test(t)).map((t) => t.toLowerCase());
  if (childIdTokens.length === 0) return { sql: TOP_LEVEL_SQL, bindings: [] };
  return {
    sql: `${TOP_LEVEL_SQL} OR ${childIdTokens.map(() => 'strpos(lower(jobs.job_id), ?) > 0').join(' OR ')}`,
    bindings: childIdTokens,
  };
}

/** Every filter but the tokens: all of them are columns of the sort indexes. */
function filterConditions(search: JobSearch): SqlPart {
  const parts: SqlPart[] = [];
  if (search.queues.length > 0) parts.push(inList('jobs.job_queue', search.queues));
  if (search.statuses.length > 0) parts.push(statusCondition(search.statuses));
  if (!search.children) parts.push(topLevelCondition(search.tokens));
  const since = rangeStart(search);
  parts.push({ sql: `jobs.last_updated >= ${since.sql}`, bindings: since.bindings });
  return andAll(parts);
}

/** The first instant of the search's date range. */
function rangeStart(search: JobSearch): SqlPart {
  return { sql: 'COALESCE(?::timestamptz, now()) - ?::interval', bindings: [search.now ?? null, DATE_RANGE_INTERVAL[search.dateRange]] };
}

/** The WHERE of a search (tokens and filters): what GET /api/v1/jobs/count counts. */
export function searchWhere(search: JobSearch, patterns?: CommandPatterns): SqlPart {
  return andAll([tokenConditions(search, false, patterns), filterConditions(search)]);
}

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
const PROBE_ROWS = 3000;
/** A walk expected to read more rows than this to reach the page is worth replacing by collecting few matches. */
const FAR_WALK_ROWS = 50_000;

/**
 * The same order, as an expression no index provides: the planner then has
 * to collect the matches (trigram bitmap) and sort them instead of walking.
 * NULL stopped_at stays NULL, so NULLs sort where they did.
 */
const UNINDEXED_SORT_SQL: Record<SortColumn, string> = {
  id: "(jobs.job_id::text || '')",
  name: "(jobs.job_name || '')",
  status: "(jobs.status::text || '')",
  stopped_at: "(jobs.stopped_at + interval '0 seconds')",
  last_updated: "(jobs.last_updated + interval '0 seconds')",
};

interface PageQuery {
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
const walksIndexFirst = (q: PageQuery) => q.sortColumn === 'stopped_at' && q.direction === 'ASC';

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
function orderedWalk(q: PageQuery, where: SqlPart, limit: number): SqlPart {
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
async function stoppedAtDescendingIds(db: Knex, q: PageQuery, where: SqlPart, need: number): Promise<string[]> {
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
const walkOrder = (q: PageQuery, alias: string) => `${alias}.sort_value ${q.direction}, ${alias}.job_id ${q.direction}`;

/**
 * A bounded walk from the start of the sort order, in one pass that stops at
 * the page's last match: a common token costs a few hundred index rows (~1
 * instead of ~6 ms on 1,000,000 jobs). The window's order is the walk's own,
 * so numbering the rows adds no sort; the walk's last row comes back too
 * (when the walk ends before the page), and its number is how many were walked.
 */
async function probeSortIndex(db: Knex, q: PageQuery, rows = PROBE_ROWS): Promise<ProbeResult> {
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

/** Whether some token has a word the trigram index can find selectively. */
function trigramSearchable(tokens: readonly string[]): boolean {
  return tokens.some((t) => [...t.matchAll(TRIGRAM_WORD)].some((m) => m[0].length >= 3));
}

const PAGE_ROWS_SQL = (column: string, direction: string) => `
    SELECT jobs.*, inst.instance_id, inst.public_ip, inst.private_ip
    FROM page JOIN jobs ON jobs.job_id = page.job_id ${INSTANCE_JOIN}
    ORDER BY ${column} ${direction}, jobs.job_id ${direction}`;

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
 * The planner's estimate of the rows each of `wheres` keeps (of `from`, a
 * fixed table expression, never input), from one EXPLAIN (one round trip,
 * nothing run): the arms of a UNION ALL are planned alone, as the children
 * of its Append.
 */
async function estimatedRowsEach(db: Knex, wheres: SqlPart[], from = 'jobs'): Promise<number[]> {
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
async function nameWalkIds(db: Knex, q: PageQuery, where: SqlPart, need: number, settings = SERIAL_WALK_SETTINGS): Promise<string[]> {
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
const WALK_TO_END_SETTINGS = { enable_sort: 'off', parallel_setup_cost: '0', parallel_tuple_cost: '0', max_parallel_workers_per_gather: '1' };

/** The page's rows and instance info, given the ids of every match up to the page's end, in order. */
async function pageRows(db: Knex, q: PageQuery, orderedIds: string[]): Promise<JobWithInstance[]> {
  const rows = await db.raw<{ rows: JobWithInstance[] }>(
    `WITH page AS (SELECT unnest(?::text[]) AS job_id) ${PAGE_ROWS_SQL(q.column, q.direction)}`,
    [orderedIds.slice(q.offset, q.offset + JOBS_PAGE_SIZE)],
  );
  return rows.rows;
}

/** The first `need` matches of a walk from `bound` on; the walk stops as soon as it has them. */
async function firstMatchesFrom(db: Knex, q: PageQuery, range: string, bound: string, need: number): Promise<string[]> {
  const walk = walkSql(q, PROBE_ROWS, { sql: range, bindings: [bound] });
  const result = await db.raw<{ rows: { job_id: string }[] }>(
    `SELECT w.job_id FROM (${walk.sql}) w
     WHERE w.matches ORDER BY ${walkOrder(q, 'w')} LIMIT ?`,
    [...walk.bindings, need],
  );
  return result.rows.map((r) => r.job_id);
}

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
 * within a few hundred rows), and only the matches before it are collected,
 * through the trigram index ANDed with that range of the sort index, which
 * reads no table page when there are none. The two parts concatenated are
 * the exact order whatever the data; if the walk does not find the page, the
 * token is not clustered there and null sends the caller to collect instead.
 * With several tokens, the walk may start further in, at their sub-cluster
 * (subClusterBound); the cluster's part before it is then collected
 * (collectInsideCluster) or walked to its end.
 */
async function searchAroundTokenPrefix(db: Knex, q: PageQuery, search: JobSearch): Promise<string[] | null> {
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
    if (nearIds.length < need) return null;
  }
  // By name, the copies give only candidates inside the collected range,
  // where the cluster's names never are (its other cases sort apart and are
  // in it); trgm_idx_jobs would hand over every one, each then refused by
  // the range (an eighth of the table for `ingest`: 1-9.5 s at 10,000,000 jobs).
  const before =
    q.sortColumn === 'name' && ASCII_ONLY.test(prefix) && (await nameOrderIsCodePoint(db))
      ? await collectFromCandidates(db, q, prefix, collectRange, need)
      : await collectWithBitmaps(db, q, nameRangeOn(q.column, collectRange), need);
  return [...before, ...between, ...nearIds].slice(0, need);
}

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
 * be searched: trgm_idx_jobs cannot prove it empty cheaply (both words are
 * common, and ANDing their lists with its name range took 365 ms), the
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

/** The first `need` matches inside `range`, in order, collected with bitmaps of jobs' own indexes. */
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

/** Jobs whose name holds `token`, inside `range`: each such name's jobs, read from the name index. */
function nameCandidates(token: string, range: NameRange): SqlPart {
  const names = namesHolding(token, range);
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
async function collectFromCandidates(db: Knex, q: PageQuery, token: string, range: NameRange, need: number): Promise<string[]> {
  const candidates = [textCandidates(token), nameCandidates(token, range)];
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
 * nearly as many as the walk's entries and are read twice (counted, then
 * collected), so the range is walked.
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
  const names = namesHolding(token, range);
  const counted = await db.raw<{ rows: { n: number }[] }>(`SELECT count(*)::int AS n FROM (${names.sql} LIMIT ?) x`, [
    ...names.bindings,
    MAX_NAME_CANDIDATES + 1,
  ]);
  if (counted.rows[0].n > MAX_NAME_CANDIDATES) return null;
  return collectFromCandidates(db, q, token, range, need);
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
  // Two steps: the page's ids first (an index-only scan of the sort column's
  // covering index when no token needs the text columns), then the 100 rows
  // and their instance info.
  if (orderBy === column && q.sortColumn === 'stopped_at' && direction === 'DESC') {
    return pageRows(db, q, await stoppedAtDescendingIds(db, q, where, q.offset + JOBS_PAGE_SIZE));
  }
  if (orderBy === column && walksIndexFirst(q)) {
    const walk = orderedWalk(q, where, q.offset + JOBS_PAGE_SIZE);
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
      WHERE ${where.sql}
      ORDER BY ${orderBy} ${direction}, jobs.job_id ${direction}
      LIMIT ? OFFSET ?
    ) ${PAGE_ROWS_SQL(column, direction)}`;
  const bindings = [...where.bindings, JOBS_PAGE_SIZE, q.offset];
  if (orderBy === column) return (await db.raw<{ rows: JobWithInstance[] }>(sql, bindings)).rows;
  return withPlannerSettings<JobWithInstance>(db, COLLECT_SETTINGS, sql, bindings);
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
async function withPlannerSettings<Row>(
  db: Knex,
  settings: Record<string, string>,
  sql: string,
  bindings: Knex.RawBinding[],
): Promise<Row[]> {
  return db.transaction(async (trx) => {
    const names = Object.keys(settings);
    await trx.raw(`SELECT ${names.map(() => 'set_config(?, ?, true)').join(', ')}`, names.flatMap((n) => [n, settings[n]]));
    return (await trx.raw<{ rows: Row[] }>(sql, bindings)).rows;
  });
}

const COLLECT_SETTINGS = { random_page_cost: '1.1' };

/** A walk of the sort index, however many rows its limit allows (see probeSortIndex). */
const WALK_SETTINGS = { enable_bitmapscan: 'off', enable_sort: 'off', enable_seqscan: 'off' };

/**
 * For one side of a split (see searchAroundTokenPrefix): bitmaps only, so
 * the trigram index ANDed with the sort index's range reads no table page
 * when that side has no match. Left to itself the planner prefers filtering
 * the range's index entries one by one (~2x slower on 1,000,000 jobs).
 *
 * A BitmapAnd reads its inputs in the order of the planner's cost and stops
 * at the first empty intersection. Ten times the default per-operator cost
 * makes that order follow the number of index entries, so under a wide date
 * range the name range (which holds the token's cluster out, and so usually
 * empties the trigram candidates) is read before the larger last_updated
 * range, which is then skipped: "ingest" by name ~87 -> ~81 ms, "report
 * team-7" by name ~157 -> ~135 ms on 1,000,000 jobs.
 *
 * The token's trigram candidates are a whole name cluster (an eighth of the
 * table for "ingest"); in the default 4 MB of work_mem their bitmap goes
 * lossy and every row of every page it names is read and tested again
 * (1,000,000 jobs with real-length command lines: ~207 ms). 32 MB keeps it
 * exact to a few million jobs (~87 ms); it bounds this one statement's
 * bitmaps, set for its transaction only.
 */
const BITMAPS_ONLY_SETTINGS = {
  ...COLLECT_SETTINGS,
  enable_indexscan: 'off',
  enable_indexonlyscan: 'off',
  cpu_operator_cost: '0.025',
  work_mem: '32MB',
};
