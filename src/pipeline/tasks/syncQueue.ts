/**
 * syncQueue — one activated queue, once per sync round (fanned out by
 * syncRound). Lists what AWS reports as active (plus, with AFTER_CREATED_AT,
 * everything created since the last round, so jobs that started and finished
 * between two rounds are caught), describes only jobs that are new or whose
 * summary differs from our row, describes once the jobs we believe active
 * that AWS no longer lists (to learn how they ended), upserts in batches and
 * marks as seen every job AWS still reports active.
 *
 * Schedule: per sync round (sync_period). Retry: SYNC_TASK_RETRY below; the
 * round marks nothing GONE unless every task of the round succeeded.
 */
import { DescribeJobQueuesCommand, type JobDetail, type JobSummary } from '@aws-sdk/client-batch';
import { getJobStates, touchLastSeen } from '../../store/jobs/sync';
import { upsertJobs } from '../../store/jobs/upsert';
import { clearNeedsDescribe, listJobsNeedingDescribe, listNonTerminalTopLevelJobIds } from '../../store/jobEvents';
import { ACTIVE_STATUSES, AWS_JOB_STATUSES, isTerminal, statusRank, type AwsJobStatus } from '../../domain/jobStatus';
import type { MirroredJob } from '../../types';
import { describeJobs, listAllJobs, type ListJobsQuery } from '../batchCalls';
import type { TaskContext } from '../context';
import { JobMappingError, mapJobDetail } from '../mapping';
import { metrics } from '../metrics';
import { getCreatedMark, raiseCreatedMark, recordSyncedAt } from '../roundState';
import { summaryChanged } from '../summaryDiff';
import { syncArrayChildren } from './syncArrayChildren';

/** Retries with exponential back-off and jitter (throttling storms, DB blips). */
export const SYNC_TASK_RETRY = {
  attempts: 5,
  backoff: { type: 'exponential' as const, delay: 500, jitter: 0.5 },
};

/** AFTER_CREATED_AT starts this long before the newest job seen last round (ListJobs is eventually consistent). */
export const CREATED_MARK_MARGIN_MS = 60_000;

export interface ReconcileStats {
  listed: number;
  described: number;
  changed: number;
  missingDescribed: number;
  changedIds: string[];
  /** Array parents this reconcile saw reach a terminal status (their children were synced first). */
  finishedParents: string[];
}

/** Keeps the most advanced summary of a job listed twice (it moved between two list calls). */
export function mergeSummaries(lists: JobSummary[][]): Map<string, JobSummary> {
  const byId = new Map<string, JobSummary>();
  for (const list of lists) {
    for (const s of list) {
      if (!s.jobId) continue;
      const prev = byId.get(s.jobId);
      if (!prev || rankOf(s) >= rankOf(prev)) byId.set(s.jobId, s);
    }
  }
  return byId;
}

function rankOf(s: JobSummary): number {
  return statusRank(s.status ?? '');
}

export async function listQueries(ctx: TaskContext, queries: ListJobsQuery[]): Promise<Map<string, JobSummary>> {
  const lists = await Promise.all(queries.map((q) => listAllJobs(ctx.aws.batch, q)));
  return mergeSummaries(lists);
}

/** Jobs described and written per step: a retried task resumes after the last written step (those rows now match). */
export const DESCRIBE_STEP = 5000;

function mapDetails(ctx: TaskContext, label: Record<string, string>, details: JobDetail[]): MirroredJob[] {
  const mapped: MirroredJob[] = [];
  for (const d of details) {
    try {
      mapped.push(mapJobDetail(d));
    } catch (err) {
      if (!(err instanceof JobMappingError)) throw err;
      ctx.logger.warn({ ...label, jobId: err.jobId, err: err.message }, 'skipping a job description that cannot be mirrored');
    }
  }
  return mapped;
}

/**
 * The common half of queue and array-children sync: diff listed summaries
 * against our rows, describe what changed plus what we believe active but
 * AWS did not list plus what events wrote since the last describe
 * (`unconfirmed`), write, and mark seen.
 */
export async function reconcileListing(
  ctx: TaskContext,
  label: Record<string, string>,
  summaries: Map<string, JobSummary>,
  believedActive: string[],
  unconfirmed: string[] = [],
): Promise<ReconcileStats> {
  const ids = [...summaries.keys()];
  const states = await getJobStates(ctx.db, ids);
  const toDescribe = ids.filter((id) => summaryChanged(summaries.get(id)!, states.get(id)));
  const missing = believedActive.filter((id) => !summaries.has(id));
  const pending = [...new Set([...toDescribe, ...missing, ...unconfirmed])];

  // Everything AWS reports active right now counts as seen (written rows get last_seen_at anyway).
  const activeNow = new Set<string>();
  for (const [id, s] of summaries) if (s.status && !isTerminal(s.status)) activeNow.add(id);
  const changedIds: string[] = [];
  const finishedParents: string[] = [];
  let described = 0;
  for (let i = 0; i < pending.length; i += DESCRIBE_STEP) {
    const step = pending.slice(i, i + DESCRIBE_STEP);
    const details = await describeJobs(ctx.aws.batch, step);
    described += details.length;
    // An event-written row AWS does not know has no truth to wait for (a forged or forgotten job): stop describing it.
    const known = new Set(details.map((d) => d.jobId));
    await clearNeedsDescribe(ctx.db, step.filter((id) => !known.has(id)));
    const mapped = mapDetails(ctx, label, details);
    // An array parent about to be stored as finished will not be "open" next round: mirror its
    // children first, so a failure here leaves the parent open and the next round tries again.
    const finishing = mapped.filter(
      (j) =>
        j.array_properties?.size !== undefined &&
        !j.array_parent_id &&
        isTerminal(j.status) &&
        !isTerminal(states.get(j.job_id)?.status ?? 'SUBMITTED'),
    );
    for (const parent of finishing) await syncArrayChildren(ctx, parent.job_id, parent.array_properties?.statusSummary);
    changedIds.push(...(await upsertJobs(ctx.db, mapped, { batchSize: 500 })).changedIds);
    finishedParents.push(...finishing.map((j) => j.job_id));
    for (const job of mapped) {
      if (isTerminal(job.status)) activeNow.delete(job.job_id);
      else activeNow.add(job.job_id);
    }
  }
  await touchLastSeen(ctx.db, [...activeNow], new Date());
  return {
    listed: summaries.size,
    described,
    changed: changedIds.length,
    missingDescribed: missing.length,
    changedIds,
    finishedParents,
  };
}

function maxCreatedAt(summaries: Map<string, JobSummary>): number | null {
  let max: number | null = null;
  for (const s of summaries.values()) {
    if (typeof s.createdAt === 'number' && (max === null || s.createdAt > max)) max = s.createdAt;
  }
  return max;
}

/** Active statuses always; the first round of a queue also lists finished ones (bootstrap), later rounds use AFTER_CREATED_AT. */
export function queueListQueries(queue: string, mark: number | null): ListJobsQuery[] {
  const statuses: readonly AwsJobStatus[] = mark === null ? AWS_JOB_STATUSES : ACTIVE_STATUSES;
  const queries: ListJobsQuery[] = statuses.map((jobStatus) => ({ jobQueue: queue, jobStatus }));
  if (mark !== null) queries.push({ jobQueue: queue, afterCreatedAt: Math.max(0, mark - CREATED_MARK_MARGIN_MS) });
  return queries;
}

export interface SyncQueueResult extends Omit<ReconcileStats, 'changedIds' | 'finishedParents'> {
  queue: string;
  /** AWS does not know the queue. */
  unknownQueue: boolean;
  bootstrap: boolean;
  childrenSynced: number;
}

/** True when AWS says the queue does not exist (deleted while still activated here). */
async function queueIsUnknown(ctx: TaskContext, queue: string, err: unknown): Promise<boolean> {
  if ((err as { name?: string }).name !== 'ClientException') return false;
  const res = await ctx.aws.batch.send(new DescribeJobQueuesCommand({ jobQueues: [queue] }));
  return (res.jobQueues ?? []).length === 0;
}

/**
 * Lists the queue; a queue AWS no longer knows lists as empty (its jobs then go
 * the GONE way) instead of failing every round — and with it GONE for every queue.
 */
async function listQueue(ctx: TaskContext, queue: string, mark: number | null): Promise<Map<string, JobSummary> | null> {
  try {
    return await listQueries(ctx, queueListQueries(queue, mark));
  } catch (err) {
    if (!(await queueIsUnknown(ctx, queue, err))) throw err;
    ctx.logger.warn({ queue }, 'activated queue unknown to AWS: treated as empty (deactivate it?)');
    return null;
  }
}

export async function syncQueue(ctx: TaskContext, queue: string): Promise<SyncQueueResult> {
  const startedAt = Date.now();
  const mark = await getCreatedMark(ctx.redis, ctx.config, queue);
  const listed = await listQueue(ctx, queue, mark);
  const summaries = listed ?? new Map<string, JobSummary>();
  const believed = await listNonTerminalTopLevelJobIds(ctx.db, queue);
  const unconfirmed = await listJobsNeedingDescribe(ctx.db, queue);
  const stats = await reconcileListing(ctx, { queue }, summaries, believed, unconfirmed);
  const newest = maxCreatedAt(summaries);
  if (newest !== null) await raiseCreatedMark(ctx.redis, ctx.config, queue, newest);
  if (listed) await recordSyncedAt(ctx.redis, ctx.config, queue, startedAt);

  metrics.jobsListed.inc({ queue }, stats.listed);
  metrics.jobsDescribed.inc({ queue }, stats.described);
  metrics.jobsChanged.inc({ queue }, stats.changed);
  return {
    queue,
    unknownQueue: listed === null,
    bootstrap: mark === null,
    listed: stats.listed,
    described: stats.described,
    changed: stats.changed,
    missingDescribed: stats.missingDescribed,
    childrenSynced: stats.finishedParents.length,
  };
}
