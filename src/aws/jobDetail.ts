/**
 * What only AWS Batch knows about a job, read live for its page: every
 * attempt (where it ran, exit code, reason, log stream), the jobs it depends
 * on, and a multi-node job's nodes (`<id>#<n>`) with their own log streams.
 * AWS forgets finished jobs after a day or so; then `found` is false.
 */
import type { AttemptDetail, BatchClient, JobDetail } from '@aws-sdk/client-batch';
import { describeJobs } from './batch';
import { upstreamCall } from './errors';
import type { AttemptInfo, JobAwsDetail, NodeInfo } from '../api/contract';

export type { AttemptInfo, JobAwsDetail, NodeInfo };

/** More nodes than this are listed without describing each (AWS allows up to 1,000). */
const MAX_NODES_DESCRIBED = 100;

const iso = (ms: number | undefined) => (ms ? new Date(ms).toISOString() : null);

function attemptInfo(a: AttemptDetail): AttemptInfo {
  return {
    container_instance_arn: a.container?.containerInstanceArn ?? null,
    task_arn: a.container?.taskArn ?? null,
    exit_code: a.container?.exitCode ?? null,
    reason: a.statusReason ?? a.container?.reason ?? null,
    log_stream_name: a.container?.logStreamName ?? null,
    started_at: iso(a.startedAt),
    stopped_at: iso(a.stoppedAt),
  };
}

function nodeInfo(id: string, index: number, d: JobDetail | undefined): NodeInfo {
  return {
    id,
    index,
    status: d?.status ?? null,
    exit_code: d?.container?.exitCode ?? null,
    reason: d?.statusReason ?? d?.container?.reason ?? null,
    log_stream_name: d?.container?.logStreamName ?? null,
  };
}

/** JobAwsDetail as AWS alone tells it: the API adds the mirror's name and status of each job depended on. */
export type AwsOnlyJobDetail = Omit<JobAwsDetail, 'depends_on'> & { depends_on: { job_id: string; type: string | null }[] };

export async function jobAwsDetail(batch: BatchClient, id: string, region: string): Promise<AwsOnlyJobDetail> {
  const [job] = await upstreamCall('AWS Batch', 'DescribeJobs', () => describeJobs(batch, [id]));
  if (!job) return { found: false, region, attempts: [], depends_on: [], nodes: null };
  let nodes: JobAwsDetail['nodes'] = null;
  const np = job.nodeProperties;
  if (np?.numNodes && !job.nodeDetails && !id.includes('#')) {
    const ids = Array.from({ length: np.numNodes }, (_, i) => `${id}#${i}`);
    const described = await upstreamCall('AWS Batch', 'DescribeJobs', () => describeJobs(batch, ids.slice(0, MAX_NODES_DESCRIBED)));
    const byId = new Map(described.map((d) => [d.jobId, d]));
    nodes = { num_nodes: np.numNodes, main_node: np.mainNode ?? 0, list: ids.map((nid, i) => nodeInfo(nid, i, byId.get(nid))) };
  }
  return {
    found: true,
    region,
    attempts: (job.attempts ?? []).map(attemptInfo),
    depends_on: (job.dependsOn ?? []).filter((d) => d.jobId).map((d) => ({ job_id: d.jobId as string, type: d.type ?? null })),
    nodes,
  };
}
