/**
 * A job's CloudWatch log: which stream holds it, and its pages from the head.
 * Pages are yielded one at a time as CloudWatch returns them (≤ 1 MB / 10,000
 * events each), so a reader holds one page and back-pressure applies.
 */
import {
  DescribeLogStreamsCommand,
  GetLogEventsCommand,
  type CloudWatchLogsClient,
  type GetLogEventsCommandOutput,
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
): Promise<GetLogEventsCommandOutput | null> {
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
    throw new AwsCallError(SERVICE, 'GetLogEvents', err);
  }
}

/**
 * The stream and its first page: the job's own stream name first (in its log
 * group, else the default), then the old-style prefix. null when neither exists.
 */
export async function openLog(
  logs: CloudWatchLogsClient,
  job: JobLogLocation,
): Promise<{ ref: LogStreamRef; first: GetLogEventsCommandOutput } | null> {
  if (job.log_stream_name) {
    const ref = { group: job.log_group_name || DEFAULT_LOG_GROUP, stream: job.log_stream_name };
    const first = await fetchLogPage(logs, ref);
    if (first) return { ref, first };
  }
  const old = await findOldStyleStream(logs, job);
  const first = old ? await fetchLogPage(logs, old) : null;
  return old && first ? { ref: old, first } : null;
}

export function pageText(page: GetLogEventsCommandOutput): string {
  let text = '';
  for (const event of page.events ?? []) text += `${event.message ?? ''}\n`;
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
): AsyncGenerator<string> {
  let page: GetLogEventsCommandOutput | null = first;
  let given: string | undefined;
  while (page) {
    const text = pageText(page);
    if (text) yield text;
    const next = page.nextForwardToken;
    if (!next || next === given) return;
    given = next;
    page = await fetchLogPage(logs, ref, next);
  }
}
