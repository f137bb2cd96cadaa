/**
 * syncQueue — one activated queue, once per sync round (fanned out by
 * syncRound). Lists what AWS reports as active, then the finished jobs created
 * since the last round (so jobs that started and finished between two rounds
 * are caught; forEachJobPage's `finishedSince`), describes only jobs that are
 * new or whose summary differs from our row, describes once the jobs we
 * believe active that AWS no longer lists (to learn how they ended), upserts
 * in batches and marks as seen every job AWS still reports active — listing,
 * describing and upserting overlapping as a pipeline (reconcileListing); the
 * created mark and synced-at rise only once all of it succeeded.
 *
 * Added by syncRound, one per locked queue. Retry: SYNC_TASK_RETRY; the
 * round marks nothing GONE unless every task of the round succeeded, and a
 * task failing for good abandons the round (frees its queue locks).
 */
import { listJobsNeedingDescribe, listNonTerminalTopLevelJobIds } from '../../store/jobEvents';
import { recordQueueSynced } from '../../store/syncState';
import { AWS_JOB_STATUSES } from '../../domain/jobStatus';
import { describeJobQueues, type ListJobsQuery } from '../../aws/batch';
import type { TaskContext } from '../context';
import { metrics } from '../metrics';
import { reconcileListing, type ReconcileStats } from '../reconcileListing';
import { abandonRound, getCreatedMark, raiseCreatedMark, recordSyncedAt, type RoundTaskData } from '../roundState';
import { SYNC_QUEUE } from '../names';
import { defineTask, ROUND_KEEP, SYNC_TASK_RETRY } from '../task';

/** The finished lists reach this long before the newest job seen last round (ListJobs is eventually consistent). */
export const CREATED_MARK_MARGIN_MS = 60_000;

/**
 * The first round of a queue lists all 7 statuses in parallel (bootstrap: the
 * retained history). Later rounds list the active statuses and the finished
 * jobs created since the mark, less the margin and one sync period more: a
 * job no list met in one round (it went back to RUNNABLE for a retry between
 * two list calls, or ListJobs had not caught up with its end) is still inside
 * the next round's window.
 */
export function queueListQueries(queue: string, mark: number | null, periodMs: number): ListJobsQuery[] {
  if (mark === null) return AWS_JOB_STATUSES.map((jobStatus) => ({ jobQueue: queue, jobStatus }));
  return [{ jobQueue: queue, finishedSince: Math.max(0, mark - CREATED_MARK_MARGIN_MS - periodMs) }];
}

export interface SyncQueueResult extends Pick<ReconcileStats, 'listed' | 'described' | 'changed' | 'missingDescribed' | 'confirmedBySummary'> {
  queue: string;
  /** AWS does not know the queue. */
  unknownQueue: boolean;
  bootstrap: boolean;
  childrenSynced: number;
}

/** True when AWS says the queue does not exist (deleted while still activated here). */
async function queueIsUnknown(ctx: TaskContext, queue: string, err: unknown): Promise<boolean> {
  if ((err as { name?: string }).name !== 'ClientException') return false;
  return (await describeJobQueues(ctx.aws.batch, [queue])).length === 0;
}

export async function syncQueue(ctx: TaskContext, queue: string): Promise<SyncQueueResult> {
  const startedAt = Date.now();
  const mark = await getCreatedMark(ctx.redis, ctx.config, queue);
  const believedActive = await listNonTerminalTopLevelJobIds(ctx.db, queue);
  const unconfirmed = await listJobsNeedingDescribe(ctx.db, queue);
  const stats = await reconcileListing(
    ctx,
    { queue },
    {
      queries: queueListQueries(queue, mark, ctx.config.sync_period * 1000),
      believedActive,
      unconfirmed,
      // A queue AWS no longer knows lists as empty (its jobs then go the GONE way)
      // instead of failing every round — and with it GONE for every queue.
      listingErrorMeansEmpty: async (err) => {
        if (!(await queueIsUnknown(ctx, queue, err))) return false;
        ctx.logger.warn({ queue }, 'activated queue unknown to AWS: treated as empty (deactivate it?)');
        return true;
      },
    },
  );
  // Only now, the whole round of the queue written: a failure above leaves the mark where it was.
  if (stats.newestCreatedAt !== null) await raiseCreatedMark(ctx.redis, ctx.config, queue, stats.newestCreatedAt);
  if (!stats.listedAsEmpty) {
    await recordSyncedAt(ctx.redis, ctx.config, queue, startedAt);
    // What the timeout killer and the terminator check before acting on the queue.
    await recordQueueSynced(ctx.db, queue);
  }

  metrics.jobsListed.inc({ queue }, stats.listed);
  metrics.jobsDescribed.inc({ queue }, stats.described);
  metrics.jobsChanged.inc({ queue }, stats.changed);
  return {
    queue,
    unknownQueue: stats.listedAsEmpty,
    bootstrap: mark === null,
    listed: stats.listed,
    described: stats.described,
    changed: stats.changed,
    missingDescribed: stats.missingDescribed,
    confirmedBySummary: stats.confirmedBySummary,
    childrenSynced: stats.finishedParents.length,
  };
}

export interface SyncQueueData extends RoundTaskData {
  queue: string;
}

export const syncQueueTask = defineTask({
  name: 'syncQueue',
  queue: SYNC_QUEUE,
  retry: SYNC_TASK_RETRY,
  keep: ROUND_KEEP,
  metric: 'syncTask',
  run: (ctx, data: SyncQueueData) => syncQueue(ctx, data.queue),
  onFinalFailure: abandonRound,
});
