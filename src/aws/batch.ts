/**
 * AWS Batch calls: paginated listing, describing in chunks of 100, the queue
 * and compute environment lookups, and terminating jobs. The clients passed in
 * are rate-limited and counted (./calls).
 */
import {
  DescribeComputeEnvironmentsCommand,
  DescribeJobQueuesCommand,
  DescribeJobsCommand,
  ListJobsCommand,
  TerminateJobCommand,
  paginateDescribeJobQueues,
  type BatchClient,
  type ComputeEnvironmentDetail,
  type JobDetail,
  type JobQueueDetail,
  type JobStatus as SdkJobStatus,
  type JobSummary,
  type ListJobsCommandInput,
} from '@aws-sdk/client-batch';
import { awsMetrics } from './metrics';

export const DESCRIBE_JOBS_MAX_IDS = 100;
/** DescribeJobs calls in flight at once for one describe (on top of the per-operation rate limit). */
export const DESCRIBE_CONCURRENCY = 4;
/** TerminateJob calls in flight at once for one terminateJobs call. */
export const TERMINATE_CONCURRENCY = 8;

/** The statuses a job moves through before it ends, in that order. */
const ACTIVE_IN_ORDER: readonly SdkJobStatus[] = ['SUBMITTED', 'PENDING', 'RUNNABLE', 'STARTING', 'RUNNING'];
const FINISHED: readonly SdkJobStatus[] = ['SUCCEEDED', 'FAILED'];

export type ListJobsQuery =
  | { jobQueue: string; jobStatus: SdkJobStatus }
  | { jobQueue: string; afterCreatedAt: number }
  /** Every active job of the queue, and the finished ones created after `finishedSince` (epoch ms). */
  | { jobQueue: string; finishedSince: number }
  | { arrayJobId: string; jobStatus: SdkJobStatus };

type PlainQuery = Exclude<ListJobsQuery, { finishedSince: number }>;

function listJobsInput(query: PlainQuery): ListJobsCommandInput {
  return 'afterCreatedAt' in query
    ? { jobQueue: query.jobQueue, filters: [{ name: 'AFTER_CREATED_AT', values: [String(query.afterCreatedAt)] }] }
    : { ...query };
}

/**
 * Every page of one ListJobs query, handed to `onPage` as it arrives; the next
 * page is asked for only once `onPage` resolves (backpressure), and not at all
 * once `stop()` says so.
 */
export async function forEachJobPage(
  batch: BatchClient,
  query: ListJobsQuery,
  onPage: (summaries: JobSummary[]) => Promise<void>,
  stop: () => boolean = () => false,
): Promise<void> {
  if ('finishedSince' in query) return forEachActiveAndRecentPage(batch, query, onPage, stop);
  const input = listJobsInput(query);
  let nextToken: string | undefined;
  do {
    const page = await batch.send(new ListJobsCommand({ ...input, nextToken }));
    await onPage(page.jobSummaryList ?? []);
    nextToken = page.nextToken;
  } while (nextToken && !stop());
}

/**
 * A steady round's listing of a queue: the active lists one after the other,
 * in the order a job moves through them, then SUCCEEDED and FAILED newest
 * first, each only as far back as `finishedSince`.
 *
 * Why this order: a job moving on while the lists are read is met by a later
 * list (it cannot skip past every list still to come), and one that ended is
 * in a finished list read after it ended. Why status lists: they hold 1,000
 * jobs a page, the AFTER_CREATED_AT filter 100, so the finished jobs of a
 * busy queue cost a tenth of the calls. AWS documents newest-first order only
 * for filtered lists, so every finished page is checked: a list out of order
 * (or without creation times) is not trusted, and the finished jobs are
 * listed with AFTER_CREATED_AT instead, as before.
 */
async function forEachActiveAndRecentPage(
  batch: BatchClient,
  query: { jobQueue: string; finishedSince: number },
  onPage: (summaries: JobSummary[]) => Promise<void>,
  stop: () => boolean,
): Promise<void> {
  const { jobQueue, finishedSince } = query;
  for (const jobStatus of ACTIVE_IN_ORDER) {
    if (stop()) return;
    await forEachJobPage(batch, { jobQueue, jobStatus }, onPage, stop);
  }
  for (const jobStatus of FINISHED) {
    if (stop()) return;
    if ((await walkFinishedSince(batch, jobQueue, jobStatus, finishedSince, onPage, stop)) === 'unordered') {
      awsMetrics.unorderedFinishedLists.inc({ status: jobStatus });
      return forEachJobPage(batch, { jobQueue, afterCreatedAt: finishedSince }, onPage, stop);
    }
  }
}

/** Pages of one finished list until one reaches `since`; 'unordered' as soon as a page breaks newest-first order. */
async function walkFinishedSince(
  batch: BatchClient,
  jobQueue: string,
  jobStatus: SdkJobStatus,
  since: number,
  onPage: (summaries: JobSummary[]) => Promise<void>,
  stop: () => boolean,
): Promise<'complete' | 'unordered'> {
  let previous = Number.POSITIVE_INFINITY;
  let nextToken: string | undefined;
  do {
    const page = await batch.send(new ListJobsCommand({ jobQueue, jobStatus, nextToken }));
    const summaries = page.jobSummaryList ?? [];
    for (const s of summaries) {
      if (typeof s.createdAt !== 'number' || s.createdAt > previous) return 'unordered';
      previous = s.createdAt;
    }
    await onPage(summaries);
    if (previous <= since) return 'complete';
    nextToken = page.nextToken;
  } while (nextToken && !stop());
  return 'complete';
}

/** Every page of one ListJobs query. */
export async function listAllJobs(batch: BatchClient, query: ListJobsQuery): Promise<JobSummary[]> {
  const out: JobSummary[] = [];
  await forEachJobPage(batch, query, async (summaries) => {
    out.push(...summaries);
  });
  return out;
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** fn over items with at most `limit` calls in flight; results in the items' order. */
export async function mapWithConcurrency<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Describes ids in chunks of 100, a few chunks at a time; jobs AWS no longer knows are simply absent. */
export async function describeJobs(batch: BatchClient, ids: string[], parallel = DESCRIBE_CONCURRENCY): Promise<JobDetail[]> {
  const described = await mapWithConcurrency(chunks([...new Set(ids)], DESCRIBE_JOBS_MAX_IDS), parallel, (chunk) =>
    describeJobChunk(batch, chunk),
  );
  return described.flat();
}

/** One DescribeJobs call (at most DESCRIBE_JOBS_MAX_IDS ids); jobs AWS no longer knows are absent. */
export async function describeJobChunk(batch: BatchClient, ids: string[]): Promise<JobDetail[]> {
  const res = await batch.send(new DescribeJobsCommand({ jobs: ids }));
  return res.jobs ?? [];
}

/**
 * TerminateJob for each id, a few at a time. Each id maps to "OK" or AWS's own
 * error message; nothing throws for a refused id.
 */
export async function terminateJobs(batch: BatchClient, ids: string[], reason: string): Promise<Map<string, string>> {
  const unique = [...new Set(ids)];
  const outcomes = await mapWithConcurrency(unique, TERMINATE_CONCURRENCY, async (jobId) => {
    try {
      await batch.send(new TerminateJobCommand({ jobId, reason }));
      return 'OK';
    } catch (err) {
      return err instanceof Error && err.message ? err.message : String(err);
    }
  });
  return new Map(unique.map((id, i) => [id, outcomes[i]]));
}

/** Every job queue AWS knows, from all DescribeJobQueues pages. */
export async function allJobQueues(batch: BatchClient): Promise<JobQueueDetail[]> {
  const out: JobQueueDetail[] = [];
  for await (const page of paginateDescribeJobQueues({ client: batch }, {})) out.push(...(page.jobQueues ?? []));
  return out;
}

/** The named queues AWS knows (an empty list: none of them). */
export async function describeJobQueues(batch: BatchClient, queues: string[]): Promise<JobQueueDetail[]> {
  const out: JobQueueDetail[] = [];
  for (const part of chunks(queues, 100)) {
    let nextToken: string | undefined;
    do {
      const res = await batch.send(new DescribeJobQueuesCommand({ jobQueues: part, nextToken }));
      out.push(...(res.jobQueues ?? []));
      nextToken = res.nextToken;
    } while (nextToken);
  }
  return out;
}

/** Each queue's compute environments (ARNs or names as AWS returns them), in the queue's order. */
export async function computeEnvironmentsByQueue(batch: BatchClient, queues: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const q of await describeJobQueues(batch, queues)) {
    if (!q.jobQueueName) continue;
    const order = [...(q.computeEnvironmentOrder ?? [])].sort((a, b) => (a.order ?? 0) - (b.order ?? 0));
    out.set(q.jobQueueName, order.map((o) => o.computeEnvironment).filter((c): c is string => Boolean(c)));
  }
  return out;
}

export async function describeComputeEnvironments(batch: BatchClient, ces: string[]): Promise<ComputeEnvironmentDetail[]> {
  const out: ComputeEnvironmentDetail[] = [];
  for (const part of chunks([...new Set(ces)], 100)) {
    let nextToken: string | undefined;
    do {
      const res = await batch.send(new DescribeComputeEnvironmentsCommand({ computeEnvironments: part, nextToken }));
      out.push(...(res.computeEnvironments ?? []));
      nextToken = res.nextToken;
    } while (nextToken);
  }
  return out;
}

/** A detail matches a reference given as ARN or as name. */
export function matchesComputeEnvironment(detail: ComputeEnvironmentDetail, ref: string): boolean {
  return detail.computeEnvironmentArn === ref || detail.computeEnvironmentName === ref;
}
