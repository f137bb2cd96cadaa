/**
 * syncArrayChildren — the children of one open array parent (listed with
 * arrayJobId), once per sync round, fanned out by syncRound beside the queue
 * tasks; also run inline by syncQueue when a parent finishes. Only statuses
 * the parent's child counts say are populated are listed.
 *
 * Schedule: per sync round. Retry: SYNC_TASK_RETRY (syncQueue.ts).
 */
import { getArrayChildren, getJobStates } from '../../store/jobs';
import { AWS_JOB_STATUSES, isTerminal, type AwsJobStatus } from '../../types';
import type { ListJobsQuery } from '../batchCalls';
import type { TaskContext } from '../context';
import { listQueries, reconcileListing, type ReconcileStats } from './syncQueue';

export interface SyncArrayChildrenResult extends Omit<ReconcileStats, 'changedIds' | 'finishedParents'> {
  parentId: string;
}

async function populatedStatuses(ctx: TaskContext, parentId: string): Promise<readonly AwsJobStatus[]> {
  const parent = (await getJobStates(ctx.db, [parentId])).get(parentId);
  const counts = parent?.array_properties?.statusSummary;
  if (!counts) return AWS_JOB_STATUSES;
  const populated = AWS_JOB_STATUSES.filter((s) => (counts[s] ?? 0) > 0);
  return populated.length > 0 ? populated : AWS_JOB_STATUSES;
}

export async function syncArrayChildren(ctx: TaskContext, parentId: string): Promise<SyncArrayChildrenResult> {
  const statuses = await populatedStatuses(ctx, parentId);
  const queries: ListJobsQuery[] = statuses.map((jobStatus) => ({ arrayJobId: parentId, jobStatus }));
  const summaries = await listQueries(ctx, queries);
  const believed = (await getArrayChildren(ctx.db, parentId)).filter((c) => !isTerminal(c.status)).map((c) => c.job_id);
  const stats = await reconcileListing(ctx, { parentId }, summaries, believed);
  return {
    parentId,
    listed: stats.listed,
    described: stats.described,
    changed: stats.changed,
    missingDescribed: stats.missingDescribed,
  };
}
