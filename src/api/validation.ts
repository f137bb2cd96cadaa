/**
 * Input schemas of every endpoint (zod) and the one helper that turns a
 * failed parse into a 400 naming the offending parameter.
 */
import { z } from 'zod';
import { DATE_RANGES, SORT_COLUMNS, type SortColumn } from './contract';
import { DISPLAY_STATUSES, JOB_STATUSES, type DisplayStatus, type JobStatus } from '../domain/jobStatus';
import { badRequest } from './errors';

/** AWS job ids are UUIDs; array children are `<uuid>:<index>`, multi-node nodes `<uuid>#<node>`; the column holds 64. */
export const JOB_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:#-]{0,63}$/;
/** AWS: up to 128 letters, numbers, hyphens and underscores. */
export const QUEUE_NAME_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
export const MAX_KILL_IDS = 1000;
export const MAX_NOTIFY_EVENTS = 1000;
const MAX_LIST_ITEMS = 200;
const MAX_SEARCH_LENGTH = 1000;
const MAX_SEARCH_TOKENS = 20;

export const jobIdSchema = z.string().regex(JOB_ID_PATTERN, 'not a job id');
export const queueNameSchema = z.string().regex(QUEUE_NAME_PATTERN, 'not a job queue name');

const commaList = <T extends z.ZodType<unknown, string>>(item: T) =>
  z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()).filter((x) => x.length > 0))
    .pipe(z.array(item).max(MAX_LIST_ITEMS, `at most ${MAX_LIST_ITEMS} items`));

const statusName = z
  .string()
  .transform((s) => s.toUpperCase())
  .pipe(z.enum(JOB_STATUSES, { error: `must be one of ${JOB_STATUSES.join(', ')}` }));

const statusList = commaList(statusName) as z.ZodType<JobStatus[], string>;

/** The job search also filters on TERMINATED (domain/jobStatus.ts: displayStatusOf). */
const displayStatusName = z
  .string()
  .transform((s) => s.toUpperCase())
  .pipe(z.enum(DISPLAY_STATUSES, { error: `must be one of ${DISPLAY_STATUSES.join(', ')}` }));
const displayStatusList = commaList(displayStatusName) as z.ZodType<DisplayStatus[], string>;
const queueList = commaList(queueNameSchema);

/** Unix seconds between 2000 and 2200: anything else is a mistake (milliseconds, say). */
const unixSeconds = z
  .string()
  .regex(/^\d{1,10}$/, 'must be unix seconds')
  .transform(Number)
  .pipe(z.number().int().min(946_684_800, 'must be unix seconds after 2000').max(7_258_118_400, 'must be unix seconds before 2200'));

/**
 * Sort names the Go original's UI sends (its default is startTime) and its
 * server sorted by last_updated, as it did every name it did not know.
 */
const ORIGINAL_UI_SORT_COLUMNS: Readonly<Record<string, SortColumn>> = {
  startTime: 'last_updated',
  creationTime: 'last_updated',
  container: 'last_updated',
  command: 'last_updated',
};

export const searchQuerySchema = z.object({
  q: z.string().max(MAX_SEARCH_LENGTH, `at most ${MAX_SEARCH_LENGTH} characters`).optional(),
  queue: queueList.optional(),
  status: displayStatusList.optional(),
  dateRange: z.enum(DATE_RANGES, { error: `must be one of ${DATE_RANGES.join(', ')}` }).optional(),
  sortColumn: z
    .string()
    .transform((v) => ORIGINAL_UI_SORT_COLUMNS[v] ?? v)
    .pipe(z.enum(SORT_COLUMNS, { error: `must be one of ${SORT_COLUMNS.join(', ')}` }))
    .optional(),
  sortDirection: z
    .string()
    .transform((s) => s.toUpperCase())
    .pipe(z.enum(['ASC', 'DESC'], { error: 'must be ASC or DESC' }))
    .optional(),
  page: z.string().regex(/^\d{1,6}$/, 'must be a whole number from 0').transform(Number).optional(),
  /** Array children too; by default only top-level jobs (as the Go original listed). */
  children: z
    .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
    .transform((v) => v === 'true' || v === '1')
    .optional(),
});

/** Splits the free-text search into tokens; bounded so one request cannot build a huge query. */
function searchTokens(q: string | undefined): string[] {
  const tokens = (q ?? '').split(/\s+/).filter((t) => t.length > 0);
  if (tokens.length > MAX_SEARCH_TOKENS) throw badRequest(`q: at most ${MAX_SEARCH_TOKENS} words`, { parameter: 'q' });
  return tokens;
}

/** The search's words by where they must appear. */
export interface SearchWords {
  /** In the id, name, queue or image. */
  tokens: string[];
  /** `reason:<word>`: in the status reason. */
  reasonWords: string[];
  /** `cmd:<word>`: in the command line. */
  commandWords: string[];
}

/** `reason:` and `cmd:` (any case) before a word say where it must appear. */
const FIELD_WORD = /^(reason|cmd):(.*)$/is;

/**
 * The free-text search split into words, each `reason:<word>` and
 * `cmd:<word>` set apart. A prefix without its word (`reason:` alone, or
 * followed by a space) is a 400 saying how to write it: searching for
 * nothing in the reason would otherwise silently list every job.
 */
export function searchWords(q: string | undefined): SearchWords {
  const words: SearchWords = { tokens: [], reasonWords: [], commandWords: [] };
  for (const token of searchTokens(q)) {
    const field = FIELD_WORD.exec(token);
    if (!field) {
      words.tokens.push(token);
      continue;
    }
    const [, prefix, word] = field;
    if (word.length === 0) {
      throw badRequest(`q: "${prefix}:" needs a word right after it (no space), e.g. reason:OutOfMemory or cmd:--shard`, { parameter: 'q' });
    }
    (prefix.toLowerCase() === 'reason' ? words.reasonWords : words.commandWords).push(word);
  }
  return words;
}

export const statsQuerySchema = z
  .object({
    start: unixSeconds,
    end: unixSeconds,
    queue: queueList.optional(),
    status: statusList.optional(),
  })
  .refine((v) => v.start < v.end, { message: 'start must be before end', path: ['start'] });

export const logsQuerySchema = z.object({
  format: z.literal('text', { error: 'only format=text is supported' }),
  /** A forward token from X-Next-Forward-Token ('' = from the head): only the events after it. */
  after: z.string().max(1024, 'at most 1024 characters').optional(),
  timestamps: z.enum(['true', 'false'], { error: 'must be true or false' }).optional(),
  /** A node of a multi-node parallel job (AWS Batch numbers up to 1,000 nodes from 0). */
  node: z
    .string()
    .regex(/^(0|[1-9]\d{0,2})$/, 'must be a node index, a whole number from 0 to 999')
    .transform(Number)
    .optional(),
});

/** AWS Batch keeps a termination reason as the job's status reason; ours adds who asked. */
export const MAX_KILL_REASON = 500;

export const killBodySchema = z.strictObject({
  ids: z
    .array(jobIdSchema)
    .min(1, 'give at least one job id')
    .max(MAX_KILL_IDS, `at most ${MAX_KILL_IDS} ids a request`),
  reason: z
    .string()
    .trim()
    .max(MAX_KILL_REASON, `at most ${MAX_KILL_REASON} characters`)
    .refine((r) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(r), 'control characters are not allowed')
    .optional(),
});

export const forcedScalingBodySchema = z.strictObject({ enabled: z.boolean() });

/** The part of an EventBridge "Batch Job State Change" event we rely on; the rest passes through. */
export const jobStateChangeEventSchema = z.looseObject({
  // EventBridge always sends these; hand-written posts may leave them out, but never with other values.
  'detail-type': z.literal('Batch Job State Change', { error: 'must be "Batch Job State Change"' }).optional(),
  source: z.literal('aws.batch', { error: 'must be "aws.batch"' }).optional(),
  detail: z.looseObject({
    jobId: jobIdSchema,
    jobName: z.string().max(1024).optional(),
    jobQueue: z.string().min(1).max(2048),
    status: z.enum(JOB_STATUSES.filter((s) => s !== 'GONE') as ['SUBMITTED'], {
      error: 'must be an AWS Batch job status',
    }),
  }),
});

/** One event or a list of them; each is checked on its own (notify skips those without a job name). */
export const notifyBodySchema = z.union([
  z.looseObject({}).transform((e): unknown[] => [e]),
  z.array(z.unknown()).min(1, 'no events').max(MAX_NOTIFY_EVENTS, `at most ${MAX_NOTIFY_EVENTS} events`),
]);

function describeIssue(issue: z.core.$ZodIssue, where: string): { message: string; parameter: string } {
  if (issue.code === 'unrecognized_keys') {
    return { message: `unknown ${where === 'body' ? 'field' : 'parameter'}: ${issue.keys.join(', ')}`, parameter: issue.keys.join(',') };
  }
  // The parameter is the top-level name; deeper paths (list items, nested fields) go in the message.
  const parameter = issue.path.length ? String(issue.path[0]) : where;
  const at = issue.path.length > 1 ? ` (at ${issue.path.map(String).join('.')})` : '';
  return { message: `${parameter}: ${issue.message}${at}`, parameter };
}

/**
 * Unknown query parameters are ignored (cache-busters and old clients send
 * extras); bodies are strict. A query parameter given twice arrives as an array; each is accepted only once. */
export function parseQueryOr400<T extends z.ZodType>(schema: T, query: Record<string, string | string[] | undefined>): z.output<T> {
  for (const [name, value] of Object.entries(query)) {
    if (Array.isArray(value)) throw badRequest(`${name}: given more than once`, { parameter: name });
  }
  return parseOr400(schema, query, 'query');
}

/** Parses or throws a 400 `{ error, parameter }` naming the first thing that was wrong. */
export function parseOr400<T extends z.ZodType>(schema: T, input: unknown, where: 'query' | 'body' | 'path'): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const { message, parameter } = issue ? describeIssue(issue, where) : { message: 'invalid input', parameter: where };
  throw badRequest(message, { parameter });
}
