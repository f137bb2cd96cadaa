/**
 * Registers the job schedulers of the periodic tasks (tasks/index.ts), each
 * as its definition says. upsertJobScheduler is idempotent: any number of
 * scheduler processes, restarts and period changes leave exactly one
 * scheduler per task (the last writer's period wins); tasks switched off in
 * the config have their scheduler removed.
 */
import type { Queue } from 'bullmq';
import { createLogger, type Logger } from '../log';
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

export async function startScheduler(config: Config, deps: { logger?: Logger } = {}): Promise<{ close(): Promise<void> }> {
  const logger = deps.logger ?? createLogger(config.log_level, { role: 'scheduler' });
  const pq = openPipelineQueues(config);
  await applySchedules(config, { [pq.sync.name]: pq.sync, [pq.maintenance.name]: pq.maintenance }, logger);
  return { close: () => pq.close() };
}
