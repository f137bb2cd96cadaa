/**
 * syncRound — the periodic round (one job per sync_period, from a BullMQ job
 * scheduler). It locks each activated queue for this round (a queue still
 * held by a slow earlier round is skipped, not piled up), then adds one flow:
 * a finishRound parent whose children are one syncQueue task per locked queue
 * and one syncArrayChildren task per open array parent. BullMQ runs the
 * parent only after every child succeeded; a child failing for good fails the
 * parent, so a round with any AWS error marks nothing GONE.
 *
 * finishRound marks GONE (non-terminal jobs of the synced queues not seen for
 * gone_after_seconds), writes the job summary log, and releases the locks.
 *
 * Schedule: every sync_period seconds. Retry: the round job 3 attempts; tasks
 * SYNC_TASK_RETRY; finishRound 3 attempts.
 */
import type { FlowJobNode, FlowProducer } from 'bullmq';
import { countActiveByQueue } from '../../store/jobs/maintenance';
import { listOpenArrayParents, markGone } from '../../store/jobs/sync';
import { recordJobSummary } from '../../store/eventLogs';
import { listActivatedQueues } from '../../store/queues';
import type { Config } from '../../config/schema';
import type { JobSummaryCounts } from '../../types';
import type { TaskContext } from '../context';
import { metrics } from '../metrics';
import { SYNC_JOBS, SYNC_QUEUE, safeJobIdPart } from '../names';
import { releaseQueueLocks, tryLockQueue } from '../roundState';
import { SYNC_TASK_RETRY } from './syncQueue';

export const SYNC_ROUND_SCHEDULER_ID = 'sync-round';

export function syncRoundSchedule(config: Config) {
  return {
    id: SYNC_ROUND_SCHEDULER_ID,
    queue: SYNC_QUEUE,
    name: SYNC_JOBS.round,
    everyMs: config.sync_period * 1000,
    enabled: true,
  };
}

export const ROUND_RETRY = { attempts: 3, backoff: { type: 'exponential' as const, delay: 1000, jitter: 0.5 } };

/** Long enough for any sane round; frees the queue if every worker holding it died. */
export function lockTtlMs(config: Pick<Config, 'sync_period'>): number {
  return Math.max(5 * 60_000, config.sync_period * 10_000);
}

export interface SyncTaskData {
  roundId: string;
  /** Every queue this round locked (released all at once if a task fails for good). */
  lockedQueues: string[];
  queue?: string;
  parentId?: string;
}

export interface FinishRoundData {
  roundId: string;
  queues: string[];
  startedAt: number;
}

export interface RoundPlan {
  roundId: string;
  queues: string[];
  skipped: string[];
  arrayParents: number;
  /** Id of the finishRound job, null when nothing was to be done. */
  finishJobId: string | null;
}

const KEEP = { removeOnComplete: { age: 3600, count: 1000 }, removeOnFail: { age: 24 * 3600, count: 1000 } };

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
  if (queues.length === 0) return { roundId, queues, skipped, arrayParents: 0, finishJobId: null };

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
  const childOpts = (id: string) => ({ ...SYNC_TASK_RETRY, ...KEEP, jobId: id, failParentOnFailure: true });
  const children: FlowJobNode[] = [
    ...queues.map((queue) => ({
      name: SYNC_JOBS.queue,
      queueName: SYNC_QUEUE,
      data: { ...base, queue } satisfies SyncTaskData,
      opts: childOpts(`q-${roundId}-${safeJobIdPart(queue)}`),
    })),
    ...parents.map((parentId) => ({
      name: SYNC_JOBS.arrayChildren,
      queueName: SYNC_QUEUE,
      data: { ...base, parentId } satisfies SyncTaskData,
      opts: childOpts(`a-${roundId}-${safeJobIdPart(parentId)}`),
    })),
  ];
  const finishJobId = `finish-${roundId}`;
  await flow.add({
    name: SYNC_JOBS.finish,
    queueName: SYNC_QUEUE,
    data: { roundId, queues, startedAt: Date.now() } satisfies FinishRoundData,
    opts: { ...ROUND_RETRY, ...KEEP, jobId: finishJobId },
    children,
  });
  return { roundId, queues, skipped, arrayParents: parents.length, finishJobId };
}

/** Keeps the round's log line and stored result small when many jobs go at once. */
export const GONE_IDS_KEPT = 100;

const ZERO: JobSummaryCounts = { submitted: 0, pending: 0, runnable: 0, starting: 0, running: 0 };

/** What each sync task of the round returned (its figures and AWS calls). */
export interface TaskFigures {
  listed?: number;
  described?: number;
  changed?: number;
  awsCalls?: number;
  calls?: Record<string, number>;
}

export interface RoundTotals {
  tasks: number;
  listed: number;
  described: number;
  changed: number;
  awsCalls: number;
  calls: Record<string, number>;
}

export function roundTotals(children: TaskFigures[]): RoundTotals {
  const totals: RoundTotals = { tasks: children.length, listed: 0, described: 0, changed: 0, awsCalls: 0, calls: {} };
  for (const c of children) {
    totals.listed += c.listed ?? 0;
    totals.described += c.described ?? 0;
    totals.changed += c.changed ?? 0;
    totals.awsCalls += c.awsCalls ?? 0;
    for (const [op, n] of Object.entries(c.calls ?? {})) totals.calls[op] = (totals.calls[op] ?? 0) + n;
  }
  return totals;
}

export interface FinishRoundResult {
  roundId: string;
  queues: string[];
  /** Ids marked GONE (the first GONE_IDS_KEPT; goneCount has them all). */
  gone: string[];
  goneCount: number;
  /** Whole round, from the flow's creation. */
  roundDurationMs: number;
  /** Sums over the round's tasks. */
  round: RoundTotals;
}

export async function finishRound(ctx: TaskContext, data: FinishRoundData, children: TaskFigures[] = []): Promise<FinishRoundResult> {
  const cutoff = new Date(Date.now() - ctx.config.gone_after_seconds * 1000);
  const gone = await markGone(ctx.db, data.queues, cutoff);
  const counts = await countActiveByQueue(ctx.db, data.queues);
  for (const queue of data.queues) await recordJobSummary(ctx.db, queue, counts.get(queue) ?? ZERO);
  await releaseQueueLocks(ctx.redis, ctx.config, data.queues, data.roundId);
  if (gone.length) metrics.jobsGone.inc(gone.length);
  metrics.rounds.inc({ result: 'completed' });
  return {
    roundId: data.roundId,
    queues: data.queues,
    gone: gone.slice(0, GONE_IDS_KEPT),
    goneCount: gone.length,
    roundDurationMs: Date.now() - data.startedAt,
    round: roundTotals(children),
  };
}

/**
 * A task of the round (or its finishing step) failed for good: free the
 * round's queues so the next round is not blocked until the locks expire.
 * A sibling task still running may then overlap the next round's task of its
 * queue once; both only read AWS and upsert, so the mirror stays right.
 */
export async function abandonRound(ctx: TaskContext, data: Pick<SyncTaskData, 'roundId' | 'lockedQueues'>): Promise<void> {
  await releaseQueueLocks(ctx.redis, ctx.config, data.lockedQueues, data.roundId);
  metrics.rounds.inc({ result: 'failed' });
}
