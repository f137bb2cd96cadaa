/**
 * Registers the job schedulers. upsertJobScheduler is idempotent: any number
 * of scheduler processes, restarts and period changes leave exactly one
 * scheduler per task (the last writer's period wins); tasks switched off in
 * the config have their scheduler removed.
 */
import type { Queue } from 'bullmq';
import { createLogger, type Logger } from '../log';
import type { Config } from '../config/schema';
import { MAINTENANCE_QUEUE } from './names';
import { openPipelineQueues } from './queues';
import { allSchedules } from './schedules';
import { ROUND_RETRY } from './tasks/syncRound';

/** Retry policy of maintenance tasks: a few quick tries; the next period picks up anything left. */
export const MAINTENANCE_RETRY = { attempts: 3, backoff: { type: 'exponential' as const, delay: 1000, jitter: 0.5 } };

const KEEP = { removeOnComplete: { age: 3600, count: 200 }, removeOnFail: { age: 24 * 3600, count: 500 } };

export interface AppliedSchedules {
  registered: string[];
  removed: string[];
}

export async function applySchedules(config: Config, queues: Record<string, Queue>, logger?: Logger): Promise<AppliedSchedules> {
  const registered: string[] = [];
  const removed: string[] = [];
  for (const s of allSchedules(config)) {
    const queue = queues[s.queue];
    if (s.enabled) {
      const retry = s.queue === MAINTENANCE_QUEUE ? MAINTENANCE_RETRY : ROUND_RETRY;
      await queue.upsertJobScheduler(s.id, { every: s.everyMs }, { name: s.name, data: {}, opts: { ...retry, ...KEEP } });
      registered.push(s.id);
    } else if (await queue.removeJobScheduler(s.id)) {
      removed.push(s.id);
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
