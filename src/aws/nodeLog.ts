/**
 * Where a node of a multi-node parallel job writes its log. Each node is a job
 * of its own to AWS Batch, `<id>#<node>`, with its own container and stream;
 * the mirror keeps only the parent (which has no container). So the node's
 * stream is read from DescribeJobs each time: AWS is the truth, the request
 * only says which node.
 */
import type { BatchClient, JobDetail } from '@aws-sdk/client-batch';
import { describeJobs } from './batch';
import { upstreamCall } from './errors';
import type { JobLogLocation } from './logs';

/** The node cannot be read: AWS no longer knows the job, it is not multi-node, or has no such node. */
export class UnknownNode extends Error {
  constructor(
    message: string,
    readonly numNodes: number | null,
  ) {
    super(message);
    this.name = 'UnknownNode';
  }
}

const nonEmpty = (s: string | undefined): string | null => (s ? s : null);

/** The node's own stream: its container's (the current try), else its last attempt's. */
function streamOf(node: JobDetail): string | null {
  const attempts = node.attempts ?? [];
  return nonEmpty(node.container?.logStreamName) ?? nonEmpty(attempts[attempts.length - 1]?.container?.logStreamName);
}

/** The log group a node's container logs to, when the job definition names one. */
function groupOf(node: JobDetail): string | null {
  return nonEmpty(node.container?.logConfiguration?.options?.['awslogs-group']);
}

/**
 * The log location of node `node` of job `id`, from one DescribeJobs call for
 * the job and the node. `log_stream_name` is null while the node has not
 * started. Throws UnknownNode when there is no such node to read.
 */
export async function nodeLogLocation(batch: BatchClient, id: string, node: number): Promise<JobLogLocation> {
  const nodeId = `${id}#${node}`;
  const described = await upstreamCall('AWS Batch', 'DescribeJobs', () => describeJobs(batch, [id, nodeId]));
  const parent = described.find((d) => d.jobId === id);
  if (!parent) throw new UnknownNode(`AWS Batch no longer knows job ${id}, so the log streams of its nodes cannot be found`, null);
  const numNodes = parent.nodeProperties?.numNodes ?? null;
  if (!numNodes) throw new UnknownNode(`job ${id} is not a multi-node parallel job: it has no nodes`, null);
  if (node >= numNodes) throw new UnknownNode(`job ${id} has ${numNodes} nodes (0 to ${numNodes - 1}): no node ${node}`, numNodes);
  const detail = described.find((d) => d.jobId === nodeId);
  return {
    job_id: nodeId,
    job_name: parent.jobName ?? '',
    log_group_name: detail ? groupOf(detail) : null,
    log_stream_name: detail ? streamOf(detail) : null,
  };
}
