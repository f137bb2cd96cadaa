/**
 * syncArrayChildren — the children of one open array parent (listed with
 * arrayJobId), once per sync round, fanned out by syncRound beside the queue
 * tasks; also run inline by syncQueue before it stores a parent as finished.
 * Only statuses the parent's current child counts (one DescribeJobs of the
 * parent) say are populated are listed.
 *
 * Schedule: per sync round. Retry: SYNC_TASK_RETRY (syncQueue.ts).
 */
import { getArrayChildren } from '../../store/jobs/lookups';
import { AWS_JOB_STATUSES, isTerminal, type AwsJobStatus } from '../../domain/jobStatus';
import type { ArrayProperties } from '../../types';
import { describeJobs, type ListJobsQuery } from '../batchCalls';
import { arrayPropertiesOf } from '../mapping';
import type { TaskContext } from '../context';
import { listQueries, reconcileListing, type ReconcileStats } from './syncQueue';

export interface SyncArrayChildrenResult extends Omit<ReconcileStats, 'changedIds' | 'finishedParents'> {
  parentId: string;
}

async function populatedStatuses(
  ctx: TaskContext,
  parentId: string,
  known?: ArrayProperties['statusSummary'],
): Promise<readonly AwsJobStatus[]> {
  // Our stored counts may be a round old (the parent's own task runs beside this one): ask AWS.
  const counts = known ?? arrayPropertiesOf((await describeJobs(ctx.aws.batch, [parentId]))[0]?.arrayProperties)?.statusSummary;
  if (!counts) return AWS_JOB_STATUSES;
  const populated = AWS_JOB_STATUSES.filter((s) => (counts[s] ?? 0) > 0);
  return populated.length > 0 ? populated : AWS_JOB_STATUSES;
}

/** `statusSummary`: the parent's fresh child counts when the caller has them (else our stored ones). */
export async function syncArrayChildren(
  ctx: TaskContext,
  parentId: string,
  statusSummary?: ArrayProperties['statusSummary'],
): Promise<SyncArrayChildrenResult> {
  const statuses = await populatedStatuses(ctx, parentId, statusSummary);
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
