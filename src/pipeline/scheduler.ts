/**
 * Registers the job schedulers of the periodic tasks (tasks/index.ts), each
 * as its definition says. upsertJobScheduler is idempotent: any number of
 * scheduler processes, restarts and period changes leave exactly one
 * scheduler per task (the last writer's period wins); tasks switched off in
 * the config have their scheduler removed.
 *
 * Job schedulers live only in Redis. A Redis that comes back without its data
 * (a failover, a restart without persistence) has none, and nothing would
 * ever run again: so the scheduler process keeps watching (every sync_period,
 * or scale_period if shorter) and registers again any scheduler of a
 * switched-on task that is missing. The watch only restores what is missing;
 * it never changes or removes an existing scheduler, so scheduler processes
 * with different configs (a rolling deploy) do not fight over periods.
 */
import type { Queue } from 'bullmq';
import { createLogger, repeatedWarnings, type Logger } from '../log';
import type { Config } from '../config/schema';
import { openPipelineQueues } from './queues';
import { isSwitchedOn } from './task';
import { SCHEDULED_TASKS } from './tasks';

export interface AppliedSchedules {
  registered: string[];
  removed: string[];
}

export async function applySchedules(config: Config, queues: Record<string, Queue>, logger?: Logger): Promise<AppliedSchedules> {
  const registered: string[] = [];
  const removed: string[] = [];
  for (const task of SCHEDULED_TASKS) {
    const { schedulerId, everyMs } = task.schedule;
    const queue = queues[task.queue];
    if (isSwitchedOn(task, config)) {
      const opts = { ...task.retry, ...task.keep };
      await queue.upsertJobScheduler(schedulerId, { every: everyMs(config) }, { name: task.name, data: {}, opts });
      registered.push(schedulerId);
    } else if (await queue.removeJobScheduler(schedulerId)) {
      removed.push(schedulerId);
    }
  }
  logger?.info({ registered, removed }, 'job schedulers registered');
  return { registered, removed };
}

/**
 * Registers again the schedulers of switched-on tasks that Redis no longer
 * has (it came back empty); leaves every existing scheduler as it is.
 */
export async function restoreMissingSchedules(config: Config, queues: Record<string, Queue>, logger?: Logger): Promise<string[]> {
  const restored: string[] = [];
  for (const task of SCHEDULED_TASKS) {
    if (!isSwitchedOn(task, config)) continue;
    const { schedulerId, everyMs } = task.schedule;
    const queue = queues[task.queue];
    if (await queue.getJobScheduler(schedulerId)) continue;
    const opts = { ...task.retry, ...task.keep };
    await queue.upsertJobScheduler(schedulerId, { every: everyMs(config) }, { name: task.name, data: {}, opts });
    restored.push(schedulerId);
  }
  if (restored.length > 0) {
    logger?.warn({ restored }, 'job schedulers missing from Redis (it restarted empty?): registered again');
  }
  return restored;
}

/** How often the scheduler process checks that its schedulers still exist. */
export function scheduleWatchMs(config: Pick<Config, 'sync_period' | 'scale_period'>): number {
  return Math.max(1000, Math.min(config.sync_period, config.scale_period) * 1000);
}

export async function startScheduler(
  config: Config,
  deps: { logger?: Logger; watchEveryMs?: number } = {},
): Promise<{ close(): Promise<void> }> {
  const logger = deps.logger ?? createLogger(config.log_level, { role: 'scheduler' });
  const pq = openPipelineQueues(config);
  const queues = { [pq.sync.name]: pq.sync, [pq.maintenance.name]: pq.maintenance };
  await applySchedules(config, queues, logger);
  const warnRepeated = repeatedWarnings(logger);
  let checking: Promise<unknown> | null = null;
  // While Redis is unreachable a check waits for it (BullMQ queues commands); later ticks skip meanwhile.
  const watch = setInterval(() => {
    checking ??= restoreMissingSchedules(config, queues, logger)
      .catch((err: unknown) => warnRepeated({ err: (err as Error).message }, 'checking the job schedulers failed'))
      .finally(() => (checking = null));
  }, deps.watchEveryMs ?? scheduleWatchMs(config));
  watch.unref();
  return {
    async close() {
      clearInterval(watch);
      await pq.close();
    },
  };
}
