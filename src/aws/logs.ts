/**
 * A job's CloudWatch log: which stream holds it, and its pages from the head
 * or from a forward token. Pages are yielded one at a time as CloudWatch
 * returns them (≤ 1 MB / 10,000 events each), so a reader holds one page and
 * back-pressure applies. CloudWatch signals the current end of a stream by
 * handing back the token it was given; a follower continues from that token.
 */
import {
  DescribeLogStreamsCommand,
  GetLogEventsCommand,
  type CloudWatchLogsClient,
  type GetLogEventsCommandOutput,
  type OutputLogEvent,
} from '@aws-sdk/client-cloudwatch-logs';
import { AwsCallError, isNotFound } from './errors';

export const DEFAULT_LOG_GROUP = '/aws/batch/job';
/** AWS Batch cut job names to 50 characters in the old stream names. */
const OLD_STYLE_NAME_LENGTH = 50;

export interface LogStreamRef {
  group: string;
  stream: string;
}

/** What locates a job's log: the stream AWS reported, else the old-style name. */
export interface JobLogLocation {
  job_id: string;
  job_name: string;
  log_group_name?: string | null;
  log_stream_name?: string | null;
}

const SERVICE = 'CloudWatch Logs';

/** CloudWatch refused the forward token it was given (not one of its tokens, or another stream's). */
export class LogTokenRefused extends Error {
  constructor(cause: unknown) {
    super(`CloudWatch Logs refused the token: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'LogTokenRefused';
  }
}

/** The old-style stream: `<name cut to 50>/<id>/...` in the default group. */
async function findOldStyleStream(logs: CloudWatchLogsClient, job: JobLogLocation): Promise<LogStreamRef | null> {
  const prefix = `${job.job_name.slice(0, OLD_STYLE_NAME_LENGTH)}/${job.job_id}/`;
  try {
    const out = await logs.send(
      new DescribeLogStreamsCommand({ logGroupName: DEFAULT_LOG_GROUP, logStreamNamePrefix: prefix, limit: 1 }),
    );
    const name = out.logStreams?.[0]?.logStreamName;
    return name ? { group: DEFAULT_LOG_GROUP, stream: name } : null;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw new AwsCallError(SERVICE, 'DescribeLogStreams', err);
  }
}

/** One page from `token` (the head without one); null when the stream does not exist. */
export async function fetchLogPage(
  logs: CloudWatchLogsClient,
  ref: LogStreamRef,
  token?: string,
  limit?: number,
): Promise<GetLogEventsCommandOutput | null> {
  try {
    return await logs.send(
      new GetLogEventsCommand({
        logGroupName: ref.group,
        logStreamName: ref.stream,
        startFromHead: true,
        ...(token ? { nextToken: token } : {}),
        ...(limit ? { limit } : {}),
      }),
    );
  } catch (err) {
    if (isNotFound(err)) return null;
    if (token && (err as { name?: string })?.name === 'InvalidParameterException') throw new LogTokenRefused(err);
    throw new AwsCallError(SERVICE, 'GetLogEvents', err);
  }
}

/**
 * The stream and its first page read from `token` (from the head without
 * one): the job's own stream name first (in its log group, else the default),
 * then the old-style prefix. null when neither exists.
 */
export async function openLog(
  logs: CloudWatchLogsClient,
  job: JobLogLocation,
  token?: string,
  limit?: number,
): Promise<{ ref: LogStreamRef; first: GetLogEventsCommandOutput } | null> {
  if (job.log_stream_name) {
    const ref = { group: job.log_group_name || DEFAULT_LOG_GROUP, stream: job.log_stream_name };
    const first = await fetchLogPage(logs, ref, token, limit);
    if (first) return { ref, first };
  }
  const old = await findOldStyleStream(logs, job);
  const first = old ? await fetchLogPage(logs, old, token, limit) : null;
  return old && first ? { ref: old, first } : null;
}

export interface LogTextOptions {
  /** Prefix each line with the event's CloudWatch timestamp (ms since the epoch) and a tab. */
  timestamps?: boolean;
}

/** An event's lines, each ending in a newline; a multi-line message repeats its timestamp on each line. */
function eventText(event: OutputLogEvent, opts: LogTextOptions): string {
  const message = event.message ?? '';
  if (!opts.timestamps) return `${message}\n`;
  const prefix = `${event.timestamp ?? 0}\t`;
  return `${prefix}${message.includes('\n') ? message.split('\n').join(`\n${prefix}`) : message}\n`;
}

export function pageText(page: GetLogEventsCommandOutput, opts: LogTextOptions = {}): string {
  let text = '';
  for (const event of page.events ?? []) text += eventText(event, opts);
  return text;
}

/**
 * Yields each page's lines, starting with the first page (already fetched, so
 * that errors before the first byte still become a proper status). CloudWatch
 * signals the end by handing back the token it was given.
 */
export async function* logPages(
  logs: CloudWatchLogsClient,
  ref: LogStreamRef,
  first: GetLogEventsCommandOutput,
  opts: LogTextOptions = {},
): AsyncGenerator<string> {
  let page: GetLogEventsCommandOutput | null = first;
  let given: string | undefined;
  while (page) {
    const text = pageText(page, opts);
    if (text) yield text;
    const next = page.nextForwardToken;
    if (!next || next === given) return;
    given = next;
    page = await fetchLogPage(logs, ref, next);
  }
}

export interface LogChunk {
  text: string;
  /** Where to continue reading; undefined while the job has no log stream. */
  nextToken: string | undefined;
  /** True when the chunk stopped at its size bound rather than at the stream's current end. */
  more: boolean;
}

/** A chunk stops once it holds this much text (it may exceed it by one CloudWatch page, ≤ 1 MB). */
export const MAX_LOG_CHUNK_BYTES = 4 * 1024 * 1024;

/** A first look at a log (`maxBytes` 0) is one page of at most this many events: the first lines show at once. */
export const FIRST_LOOK_EVENTS = 1000;

/**
 * The events after `token` (from the head when it is empty), up to about
 * `maxBytes` of text (0: one page of FIRST_LOOK_EVENTS), with the token to continue from. A
 * follower that polls with the returned token gets only events it has not
 * seen, for one GetLogEvents call when nothing new was written.
 */
export async function readLogChunk(
  logs: CloudWatchLogsClient,
  job: JobLogLocation,
  token: string,
  opts: LogTextOptions & { maxBytes?: number } = {},
): Promise<LogChunk> {
  const maxBytes = opts.maxBytes ?? MAX_LOG_CHUNK_BYTES;
  const log = await openLog(logs, job, token || undefined, maxBytes === 0 ? FIRST_LOOK_EVENTS : undefined);
  if (!log) return { text: '', nextToken: token || undefined, more: false };
  const parts: string[] = [];
  let bytes = 0;
  let given = token || undefined;
  let page: GetLogEventsCommandOutput | null = log.first;
  while (page) {
    const text = pageText(page, opts);
    parts.push(text);
    bytes += Buffer.byteLength(text);
    const next = page.nextForwardToken;
    if (!next || next === given) return { text: parts.join(''), nextToken: next ?? given, more: false };
    if (bytes >= maxBytes) return { text: parts.join(''), nextToken: next, more: true };
    given = next;
    page = await fetchLogPage(logs, log.ref, next);
  }
  // The stream vanished between pages: what was read stands; continue from the last token.
  return { text: parts.join(''), nextToken: given, more: false };
}
