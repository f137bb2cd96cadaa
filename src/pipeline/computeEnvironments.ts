/** Queue -> compute environments lookups shared by scaling, ECS reconciliation and the CE log. */
import {
  DescribeComputeEnvironmentsCommand,
  DescribeJobQueuesCommand,
  type BatchClient,
  type ComputeEnvironmentDetail,
} from '@aws-sdk/client-batch';

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Each queue's compute environments (ARNs or names as AWS returns them), in the queue's order. */
export async function computeEnvironmentsByQueue(batch: BatchClient, queues: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const part of chunks(queues, 100)) {
    let nextToken: string | undefined;
    do {
      const res = await batch.send(new DescribeJobQueuesCommand({ jobQueues: part, nextToken }));
      for (const q of res.jobQueues ?? []) {
        if (!q.jobQueueName) continue;
        const order = [...(q.computeEnvironmentOrder ?? [])].sort((a, b) => (a.order ?? 0) - (b.order ?? 0));
        out.set(q.jobQueueName, order.map((o) => o.computeEnvironment).filter((c): c is string => Boolean(c)));
      }
      nextToken = res.nextToken;
    } while (nextToken);
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
