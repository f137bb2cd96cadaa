/**
 * rollUpStats — recomputes the stats rollup's buckets that writes marked
 * (src/store/statsRollup.ts). Stats are exact without it; it keeps them fast
 * (the buckets still marked are computed from `jobs` at each request).
 *
 * Schedule: every scale_period seconds. Retry: MAINTENANCE_RETRY.
 */
import { refreshStatsRollup } from '../../store/statsRollup';
import type { TaskContext } from '../context';
import { MAINTENANCE_QUEUE } from '../names';
import { defineTask, MAINTENANCE_RETRY, SCHEDULED_KEEP } from '../task';

export async function rollUpStats(ctx: TaskContext): Promise<{ marks: number; buckets: number }> {
  return refreshStatsRollup(ctx.db);
}

export const rollUpStatsTask = defineTask({
  name: 'rollUpStats',
  queue: MAINTENANCE_QUEUE,
  schedule: { schedulerId: 'roll-up-stats', everyMs: (config) => config.scale_period * 1000 },
  retry: MAINTENANCE_RETRY,
  keep: SCHEDULED_KEEP,
  metric: 'task',
  run: (ctx) => rollUpStats(ctx),
});
