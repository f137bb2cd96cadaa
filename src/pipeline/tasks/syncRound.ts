/**
 * syncRound — the periodic round (one job per sync_period, from a BullMQ job
 * scheduler). It locks each activated queue for this round (a queue still
 * held by a slow earlier round is skipped, not piled up), then adds one flow:
 * a finishRound parent whose children are one syncQueue task per locked queue
 * and one syncArrayChildren task per open array parent. BullMQ runs the
 * parent only after every child succeeded; a child failing for good fails the
 * parent, so a round with any AWS error marks nothing GONE.
 *
 * Schedule: every sync_period seconds. Retry: ROUND_RETRY. The round's jobs
 * take the retry and keep policies of their own definitions (finishRound.ts,
 * syncQueue.ts, syncArrayChildren.ts).
 */
import type { FlowJobNode, FlowProducer } from 'bullmq';
import { listOpenArrayParents } from '../../store/jobs/sync';
import { listActivatedQueues } from '../../store/queues';
import { recordHeartbeat, SYNC_ROUND_FINISHED } from '../../store/syncState';
import type { Config } from '../../config/schema';
import type { TaskContext } from '../context';
import { SYNC_QUEUE, safeJobIdPart } from '../names';
import { releaseQueueLocks, tryLockQueue } from '../roundState';
import { defineTask, ROUND_RETRY, SCHEDULED_KEEP, type TaskDefinition } from '../task';
import { finishRoundTask, type FinishRoundData } from './finishRound';
import { syncArrayChildrenTask, type SyncArrayChildrenData } from './syncArrayChildren';
import { syncQueueTask, type SyncQueueData } from './syncQueue';

/** Long enough for any sane round; frees the queue if every worker holding it died. */
export function lockTtlMs(config: Pick<Config, 'sync_period'>): number {
  return Math.max(5 * 60_000, config.sync_period * 10_000);
}

export interface RoundPlan {
  roundId: string;
  queues: string[];
  skipped: string[];
  arrayParents: number;
  /** Id of the finishRound job, null when nothing was to be done. */
  finishJobId: string | null;
}

/** A job of the round, with its definition's retry and keep policy. */
const jobOptions = (task: TaskDefinition, jobId: string) => ({ ...task.retry, ...task.keep, jobId });

export async function startRound(ctx: TaskContext, flow: FlowProducer, roundJobId: string): Promise<RoundPlan> {
  const roundId = safeJobIdPart(roundJobId);
  const activated = (await listActivatedQueues(ctx.db)).map((q) => q.job_queue);
  const queues: string[] = [];
  const skipped: string[] = [];
  for (const queue of activated) {
    if (await tryLockQueue(ctx.redis, ctx.config, queue, roundId, lockTtlMs(ctx.config))) queues.push(queue);
    else skipped.push(queue);
  }
  if (skipped.length) ctx.logger.warn({ roundId, skipped }, 'sync round skips queues still held by an earlier round');
  if (queues.length === 0) {
    // No queue activated: nothing to sync, the round is done (and /readyz sees rounds happening).
    if (skipped.length === 0) await recordHeartbeat(ctx.db, SYNC_ROUND_FINISHED);
    return { roundId, queues, skipped, arrayParents: 0, finishJobId: null };
  }

  try {
    return await addRoundFlow(ctx, flow, roundId, queues, skipped);
  } catch (err) {
    // Nothing was enqueued for these queues: free them now, or every round
    // would skip them until the lock expires (minutes) after one DB blip.
    await releaseQueueLocks(ctx.redis, ctx.config, queues, roundId).catch(() => undefined);
    throw err;
  }
}

async function addRoundFlow(
  ctx: TaskContext,
  flow: FlowProducer,
  roundId: string,
  queues: string[],
  skipped: string[],
): Promise<RoundPlan> {
  const parents = await listOpenArrayParents(ctx.db, queues);
  const base = { roundId, lockedQueues: queues };
  const child = (task: TaskDefinition, jobId: string) => ({ ...jobOptions(task, jobId), failParentOnFailure: true });
  const children: FlowJobNode[] = [
    ...queues.map((queue) => ({
      name: syncQueueTask.name,
      queueName: syncQueueTask.queue,
      data: { ...base, queue } satisfies SyncQueueData,
      opts: child(syncQueueTask, `q-${roundId}-${safeJobIdPart(queue)}`),
    })),
    ...parents.map((parentId) => ({
      name: syncArrayChildrenTask.name,
      queueName: syncArrayChildrenTask.queue,
      data: { ...base, parentId } satisfies SyncArrayChildrenData,
      opts: child(syncArrayChildrenTask, `a-${roundId}-${safeJobIdPart(parentId)}`),
    })),
  ];
  const finishJobId = `finish-${roundId}`;
  await flow.add({
    name: finishRoundTask.name,
    queueName: finishRoundTask.queue,
    data: { roundId, queues, startedAt: Date.now() } satisfies FinishRoundData,
    opts: jobOptions(finishRoundTask, finishJobId),
    children,
  });
  return { roundId, queues, skipped, arrayParents: parents.length, finishJobId };
}

export const syncRoundTask = defineTask({
  name: 'syncRound',
  queue: SYNC_QUEUE,
  schedule: { schedulerId: 'sync-round', everyMs: (config) => config.sync_period * 1000 },
  retry: ROUND_RETRY,
  keep: SCHEDULED_KEEP,
  run: (ctx, _data: unknown, job) => startRound(ctx, job.flow, job.id),
});
