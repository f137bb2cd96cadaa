/** AWS Batch calls of the sync tasks: paginated listing and describing in chunks of 100. */
import {
  DescribeJobsCommand,
  ListJobsCommand,
  type BatchClient,
  type JobDetail,
  type JobStatus as SdkJobStatus,
  type JobSummary,
  type ListJobsCommandInput,
} from '@aws-sdk/client-batch';

export const DESCRIBE_JOBS_MAX_IDS = 100;

export type ListJobsQuery =
  | { jobQueue: string; jobStatus: SdkJobStatus }
  | { jobQueue: string; afterCreatedAt: number }
  | { arrayJobId: string; jobStatus: SdkJobStatus };

/** Every page of one ListJobs query. */
export async function listAllJobs(batch: BatchClient, query: ListJobsQuery): Promise<JobSummary[]> {
  const input: ListJobsCommandInput =
    'afterCreatedAt' in query
      ? { jobQueue: query.jobQueue, filters: [{ name: 'AFTER_CREATED_AT', values: [String(query.afterCreatedAt)] }] }
      : { ...query };
  const out: JobSummary[] = [];
  let nextToken: string | undefined;
  do {
    const page = await batch.send(new ListJobsCommand({ ...input, nextToken }));
    out.push(...(page.jobSummaryList ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return out;
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Describes ids in chunks of 100, a few chunks at a time; jobs AWS no longer knows are simply absent. */
export async function describeJobs(batch: BatchClient, ids: string[], parallel = 4): Promise<JobDetail[]> {
  const pending = chunks([...new Set(ids)], DESCRIBE_JOBS_MAX_IDS);
  const out: JobDetail[] = [];
  const worker = async () => {
    for (let chunk = pending.shift(); chunk; chunk = pending.shift()) {
      const res = await batch.send(new DescribeJobsCommand({ jobs: chunk }));
      out.push(...(res.jobs ?? []));
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, pending.length) }, worker));
  return out;
}
