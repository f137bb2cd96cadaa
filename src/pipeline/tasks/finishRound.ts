/**
 * finishRound — the last step of a sync round, run by BullMQ once every task
 * of the round succeeded: marks GONE (non-terminal jobs of the synced queues
 * not seen for gone_after_seconds), writes the job summary log, releases the
 * round's queue locks, and sums the round's figures from its tasks' results.
 *
 * Added by syncRound as the parent of the round's flow. Retry: ROUND_RETRY;
 * failing for good abandons the round (frees its queue locks).
 */
import { countActiveByQueue } from '../../store/jobs/maintenance';
import { markGone } from '../../store/jobs/sync';
import { recordJobSummary } from '../../store/eventLogs';
import { recordHeartbeat, SYNC_ROUND_FINISHED } from '../../store/syncState';
import type { JobSummaryCounts } from '../../types';
import type { TaskContext } from '../context';
import { metrics } from '../metrics';
import { SYNC_QUEUE } from '../names';
import { abandonRound, releaseQueueLocks } from '../roundState';
import { defineTask, ROUND_KEEP, ROUND_RETRY } from '../task';

export interface FinishRoundData {
  roundId: string;
  queues: string[];
  startedAt: number;
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
  await recordHeartbeat(ctx.db, SYNC_ROUND_FINISHED);
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

export const finishRoundTask = defineTask({
  name: 'finishRound',
  queue: SYNC_QUEUE,
  retry: ROUND_RETRY,
  keep: ROUND_KEEP,
  run: async (ctx, data: FinishRoundData, job) => finishRound(ctx, data, await job.childResults<TaskFigures>()),
  onFinalFailure: (ctx, data) => abandonRound(ctx, { roundId: data.roundId, lockedQueues: data.queues }),
});
