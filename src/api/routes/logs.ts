/**
 * A job's CloudWatch log as text/plain, streamed page by page as CloudWatch
 * returns them: only one page (≤ 1 MB / 10,000 events) is ever held, and the
 * next page is fetched only when the client has taken the previous one
 * (Readable.from pulls the generator on demand, so back-pressure applies).
 */
import { Readable } from 'node:stream';
import type Router from '@koa/router';
import {
  DescribeLogStreamsCommand,
  GetLogEventsCommand,
  type CloudWatchLogsClient,
  type GetLogEventsCommandOutput,
} from '@aws-sdk/client-cloudwatch-logs';
import { getJob } from '../../store/jobs/lookups';
import type { JobWithInstance } from '../../types';
import type { ApiDeps } from '../deps';
import { HttpError, notFound } from '../errors';
import { jobIdParam } from '../params';
import { logsQuerySchema, parseQueryOr400 } from '../validation';

export const DEFAULT_LOG_GROUP = '/aws/batch/job';
/** AWS Batch cut job names to 50 characters in the old stream names. */
const OLD_STYLE_NAME_LENGTH = 50;

export interface LogStreamRef {
  group: string;
  stream: string;
}

function isNotFound(err: unknown): boolean {
  return (err as { name?: string })?.name === 'ResourceNotFoundException';
}

function upstream(err: unknown, what: string): HttpError {
  const message = err instanceof Error ? err.message : String(err);
  return new HttpError(502, `CloudWatch Logs ${what} failed: ${message}`);
}

/** The old-style stream: `<name cut to 50>/<id>/...` in the default group. */
async function findOldStyleStream(logs: CloudWatchLogsClient, job: JobWithInstance): Promise<LogStreamRef | null> {
  const prefix = `${job.job_name.slice(0, OLD_STYLE_NAME_LENGTH)}/${job.job_id}/`;
  try {
    const out = await logs.send(
      new DescribeLogStreamsCommand({ logGroupName: DEFAULT_LOG_GROUP, logStreamNamePrefix: prefix, limit: 1 }),
    );
    const name = out.logStreams?.[0]?.logStreamName;
    return name ? { group: DEFAULT_LOG_GROUP, stream: name } : null;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw upstream(err, 'DescribeLogStreams');
  }
}

/**
 * The stream and its first page: the job's own stream name first (in its log
 * group, else the default), then the old-style prefix. null when neither exists.
 */
export async function openLog(
  logs: CloudWatchLogsClient,
  job: JobWithInstance,
): Promise<{ ref: LogStreamRef; first: GetLogEventsCommandOutput } | null> {
  if (job.log_stream_name) {
    const ref = { group: job.log_group_name || DEFAULT_LOG_GROUP, stream: job.log_stream_name };
    const first = await fetchPage(logs, ref);
    if (first) return { ref, first };
  }
  const old = await findOldStyleStream(logs, job);
  const first = old ? await fetchPage(logs, old) : null;
  return old && first ? { ref: old, first } : null;
}

async function fetchPage(logs: CloudWatchLogsClient, ref: LogStreamRef, token?: string): Promise<GetLogEventsCommandOutput | null> {
  try {
    return await logs.send(
      new GetLogEventsCommand({
        logGroupName: ref.group,
        logStreamName: ref.stream,
        startFromHead: true,
        ...(token ? { nextToken: token } : {}),
      }),
    );
  } catch (err) {
    if (isNotFound(err)) return null;
    throw upstream(err, 'GetLogEvents');
  }
}

function pageText(page: GetLogEventsCommandOutput): string {
  let text = '';
  for (const event of page.events ?? []) text += `${event.message ?? ''}\n`;
  return text;
}

/**
 * Yields each page's lines after the first page (already fetched, so that
 * errors before the first byte still become a proper status). CloudWatch
 * signals the end by handing back the token it was given.
 */
async function* remainingPages(
  logs: CloudWatchLogsClient,
  ref: LogStreamRef,
  first: GetLogEventsCommandOutput,
): AsyncGenerator<string> {
  let page: GetLogEventsCommandOutput | null = first;
  let given: string | undefined;
  while (page) {
    const text = pageText(page);
    if (text) yield text;
    const next = page.nextForwardToken;
    if (!next || next === given) return;
    given = next;
    page = await fetchPage(logs, ref, next);
  }
}

export function logRoutes(router: Router, deps: ApiDeps): void {
  router.get('/api/v1/jobs/:id/logs', async (ctx) => {
    const id = jobIdParam(ctx);
    parseQueryOr400(logsQuerySchema, ctx.query);
    const job = await getJob(deps.db, id);
    if (!job) throw notFound('job not found', { id });
    ctx.type = 'text/plain; charset=utf-8';
    ctx.set('Cache-Control', 'no-store');
    const log = await openLog(deps.aws.logs, job);
    if (!log) {
      ctx.body = '';
      return;
    }
    const stream = Readable.from(remainingPages(deps.aws.logs, log.ref, log.first), { objectMode: false });
    stream.on('error', (err) => deps.logger.warn({ err, id }, 'log stream broke off'));
    ctx.body = stream;
  });
}
