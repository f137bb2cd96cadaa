/**
 * A search's filters and words as SQL conditions: the WHERE of a search
 * and of its count, and the per-row tests of a bounded walk.
 */
import type { Knex } from 'knex';
import type { JobSearch } from '../../../types';
import type { DateRange } from '../../../api/contract';
import { terminatedSql } from '../derivedStatus';
import type { DisplayStatus, JobStatus } from '../../../domain/jobStatus';
import { type SqlPart, andAll, estimatedRowsEach, inList } from './sql';

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

export const ASCII_ONLY = /^[\x00-\x7f]*$/;

/**
 * A token must be a substring of one of the job's id, name, queue and image.
 * Written with strpos (literal by nature) rather than ILIKEs so the planner
 * does not count the token's selectivity twice beside the copy's lookup:
 * that underestimate made it pick collecting over far cheaper index walks.
 *
 * An ASCII token is lower-cased in the "C" collation: ASCII case folding,
 * without the locale's per-character conversion (3x cheaper per row on a
 * C.UTF-8 or en_US database; "report team-7": 100 -> 50 ms on 1,000,000 jobs).
 * AWS allows only ASCII in job ids, job names, queue names and image
 * references, so the answer is the same; a token with other characters keeps
 * the database's full Unicode lower().
 */
function tokenTest(token: string): SqlPart {
  const columns = ['jobs.job_id', 'jobs.job_name', 'jobs.job_queue', 'jobs.image'];
  const collate = ASCII_ONLY.test(token) ? ' COLLATE "C"' : '';
  return {
    sql: `(${columns.map((c) => `strpos(lower(${c}${collate}), lower(?${collate})) > 0`).join(' OR ')})`,
    bindings: columns.map(() => token),
  };
}

/**
 * The text of job_search_texts (alias `s`) a token is looked up in: id,
 * queue, image and name, space-separated. Written exactly as the expression
 * of its trigram index job_search_texts_tokens_trgm (migration
 * 20261206010000), so the planner can use that index.
 */
const TOKEN_TEXT_SQL = "(s.search_text || ' ' || s.job_name)";

/**
 * Tokens in a WHERE: one EXISTS in the copy job_search_texts for all of them
 * (a semi-join, so rare matches are collected from the copy's trigram index,
 * each token given to it as its trigram core), and each token's exact test
 * on the job's own columns. The copy is written only when a job is inserted
 * or its name, queue or image changes; a trigram index on `jobs` itself got
 * ~90 entries at every status change (see the migration). Per row (a
 * bounded walk, or a walk the planner is left to) the exact tests alone.
 */
function tokensCondition(tokens: readonly string[], perRow: boolean): SqlPart {
  const exact = andAll(tokens.map(tokenTest));
  if (perRow) return exact;
  const lookups = tokens.map(() => `${TOKEN_TEXT_SQL} ILIKE ?`).join(' AND ');
  return {
    sql: `EXISTS (SELECT 1 FROM job_search_texts s WHERE s.job_id = jobs.job_id AND ${lookups}) AND ${exact.sql}`,
    bindings: [...tokens.map((t) => likeSubstring(trigramCore(t))), ...exact.bindings],
  };
}

/**
 * A `reason:` word must be a substring of the status reason, found through
 * the partial trigram index jobs_status_reason_trgm (ILIKE on the word's
 * trigram core, as tokensCondition does; strpos keeps the exact semantics).
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

export const nonEmpty = (words: readonly string[] | undefined) => (words ?? []).filter((w) => w.length > 0);

/** Whether the search has `reason:` or `cmd:` words. */
export const hasFieldWords = (search: JobSearch) => nonEmpty(search.reasonWords).length + nonEmpty(search.commandWords).length > 0;

/**
 * Every word's condition. `perRow`: the form a bounded walk tests on each
 * row it reads (the probe's `matches`). There the EXISTS of `cmd:` words
 * would be planned as a hash of every command line matching them (the
 * planner expects the walk to read the whole range): 125,000 rows for a word
 * in one job of 8, ~800 ms on 1,000,000 jobs, where testing the 800 rows
 * walked takes ~5 ms.
 */
export function tokenConditions(search: JobSearch, perRow = false, patterns?: CommandPatterns): SqlPart {
  const tokens = nonEmpty(search.tokens);
  const parts = tokens.length > 0 ? [tokensCondition(tokens, perRow)] : [];
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
export function statusKeys(statuses: readonly DisplayStatus[]): string[] | null {
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
export function filterConditions(search: JobSearch): SqlPart {
  const parts: SqlPart[] = [];
  if (search.queues.length > 0) parts.push(inList('jobs.job_queue', search.queues));
  if (search.statuses.length > 0) parts.push(statusCondition(search.statuses));
  if (!search.children) parts.push(topLevelCondition(search.tokens));
  const since = rangeStart(search);
  parts.push({ sql: `jobs.last_updated >= ${since.sql}`, bindings: since.bindings });
  return andAll(parts);
}

/** The first instant of the search's date range. */
export function rangeStart(search: JobSearch): SqlPart {
  return { sql: 'COALESCE(?::timestamptz, now()) - ?::interval', bindings: [search.now ?? null, DATE_RANGE_INTERVAL[search.dateRange]] };
}

/** The WHERE of a search (tokens and filters): what GET /api/v1/jobs/count counts. */
export function searchWhere(search: JobSearch, patterns?: CommandPatterns): SqlPart {
  return andAll([tokenConditions(search, false, patterns), filterConditions(search)]);
}

/** Whether some token has a word the trigram index can find selectively. */
export function trigramSearchable(tokens: readonly string[]): boolean {
  return tokens.some((t) => [...t.matchAll(TRIGRAM_WORD)].some((m) => m[0].length >= 3));
}
