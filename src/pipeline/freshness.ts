/**
 * Acting only on fresh truth (issue 13.2): the timeout killer and the
 * terminator leave alone every queue whose last successful sync is older than
 * STALE_AFTER_SYNC_PERIODS sync periods (or that was never synced), whatever
 * the mirror says about its jobs. Ages come from Postgres's clock
 * (store/syncState.ts).
 */
import { queueSyncAges } from '../store/syncState';
import type { TaskContext } from './context';

export const STALE_AFTER_SYNC_PERIODS = 3;

export function staleAfterSeconds(config: { sync_period: number }): number {
  return STALE_AFTER_SYNC_PERIODS * config.sync_period;
}

export interface StaleQueue {
  queue: string;
  /** Seconds since its last successful sync; null: never synced (or not since the record began). */
  lastSyncedSecondsAgo: number | null;
}

export interface QueueFreshness {
  fresh: Set<string>;
  stale: StaleQueue[];
}

/** Splits the queues into fresh and stale ones; logs the stale ones, naming the task that leaves them alone. */
export async function queueFreshness(ctx: TaskContext, task: string, queues: Iterable<string>): Promise<QueueFreshness> {
  const limit = staleAfterSeconds(ctx.config);
  const ages = await queueSyncAges(ctx.db, [...new Set(queues)].sort());
  const fresh = new Set<string>();
  const stale: StaleQueue[] = [];
  for (const [queue, age] of ages) {
    if (age !== null && age <= limit) fresh.add(queue);
    else stale.push({ queue, lastSyncedSecondsAgo: age === null ? null : Math.round(age) });
  }
  if (stale.length > 0) {
    ctx.logger.warn(
      { task, stale, staleAfterSeconds: limit },
      `${task} leaves these queues alone: their last successful sync is older than ${STALE_AFTER_SYNC_PERIODS} sync periods, so the mirror is not fresh enough to act on`,
    );
  }
  return { fresh, stale };
}
