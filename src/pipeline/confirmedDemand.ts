/**
 * The vCPUs a queue's active jobs hold according to AWS, asked just before
 * the scaling task changes a compute environment (UpdateComputeEnvironment
 * acts only on what AWS confirmed, never on the mirror alone).
 *
 * Which jobs are active comes from ListJobs of each active status, now. A
 * job's vCPUs never change after SubmitJob, so the mirror's value is AWS's
 * own when the row was written from DescribeJobs; rows the mirror lacks,
 * that only events wrote (`needs_describe`, vCPUs 0) or that an SQS event's
 * description wrote and nothing confirmed since (`event_written`) are
 * described now. An
 * array parent is always described: its `statusSummary` says how many of its
 * children are active, each holding the parent's vCPUs (queue listings do not
 * return children).
 */
import type { BatchClient, JobDetail, JobSummary } from '@aws-sdk/client-batch';
import type { Knex } from 'knex';
import { describeJobs, listAllJobs } from '../aws/batch';
import { ACTIVE_STATUSES } from '../domain/jobStatus';
import { mapJobDetail } from './mapping';

interface MirroredVcpus {
  job_id: string;
  vcpus: number;
  needs_describe: boolean;
  event_written: boolean;
}

async function listActive(batch: BatchClient, queue: string): Promise<JobSummary[]> {
  const pages = await Promise.all(ACTIVE_STATUSES.map((jobStatus) => listAllJobs(batch, { jobQueue: queue, jobStatus })));
  const byId = new Map<string, JobSummary>();
  // A job moving between statuses while we list may show up twice.
  for (const s of pages.flat()) if (s.jobId) byId.set(s.jobId, s);
  return [...byId.values()];
}

/** A parent has a size and no index (its children have an index). */
function isArrayParent(job: Pick<JobSummary | JobDetail, 'arrayProperties'>): boolean {
  return job.arrayProperties?.size !== undefined && job.arrayProperties.index === undefined;
}

async function mirroredVcpus(db: Knex, ids: string[]): Promise<Map<string, MirroredVcpus>> {
  if (ids.length === 0) return new Map();
  const rows: MirroredVcpus[] = await db('jobs')
    .select('job_id', db.raw('COALESCE(vcpus_exact, vcpus)::float8 AS vcpus'), 'needs_describe', 'event_written')
    .whereRaw('job_id = ANY(?::varchar[])', [ids]);
  return new Map(rows.map((r) => [r.job_id, { ...r, vcpus: Number(r.vcpus) }]));
}

function vcpusOfDetail(detail: JobDetail): number {
  const { vcpus, vcpus_exact } = mapJobDetail(detail);
  return vcpus_exact ?? vcpus;
}

function activeChildren(detail: JobDetail): number {
  const summary = detail.arrayProperties?.statusSummary ?? {};
  return ACTIVE_STATUSES.reduce((n, status) => n + (summary[status] ?? 0), 0);
}

/** Sum of the vCPUs held by the queue's active jobs, as AWS reports them now. */
export async function confirmedActiveVcpus(batch: BatchClient, db: Knex, queue: string): Promise<number> {
  const active = await listActive(batch, queue);
  const parents = active.filter(isArrayParent).map((s) => s.jobId as string);
  const plain = active.filter((s) => !isArrayParent(s)).map((s) => s.jobId as string);
  const mirrored = await mirroredVcpus(db, plain);
  let total = 0;
  const unknown: string[] = [];
  for (const id of plain) {
    const row = mirrored.get(id);
    if (row && !row.needs_describe && !row.event_written) total += row.vcpus;
    else unknown.push(id);
  }
  for (const detail of await describeJobs(batch, [...parents, ...unknown])) {
    const perJob = vcpusOfDetail(detail);
    total += isArrayParent(detail) ? perJob * activeChildren(detail) : perJob;
  }
  return total;
}
