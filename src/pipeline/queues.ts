/**
 * The pipeline's BullMQ queues as producers see them: the API (bull-board,
 * POST /api/v1/jobs/notify), the scheduler, tests and benchmarks.
 */
import { Queue } from 'bullmq';
import type { Config } from '../config/schema';
import { bullConnection, closeRedis, createRedis } from './connection';
import { type EnqueueResult, enqueueJobEventsTo } from './jobEvents';
import { MAINTENANCE_QUEUE, SYNC_QUEUE } from './names';

export interface PipelineQueues {
  /** Every BullMQ queue of the pipeline (for bull-board). */
  queues: Queue[];
  /**
   * Validates and durably enqueues EventBridge "Batch Job State Change"
   * events; a worker applies them within a second. Events without a job name
   * are skipped. All or nothing: one invalid event rejects the call with
   * InvalidJobEventError, a full backlog with JobEventBacklogFullError (./jobEvents).
   */
  enqueueJobEvents(events: unknown[]): Promise<EnqueueResult>;
  close(): Promise<void>;
}

export interface PipelineQueuesInternal extends PipelineQueues {
  sync: Queue;
  maintenance: Queue;
  config: Config;
}

export function openPipelineQueues(config: Config): PipelineQueuesInternal {
  const connection = bullConnection(config);
  const sync = new Queue(SYNC_QUEUE, { connection, prefix: config.redis_prefix });
  const maintenance = new Queue(MAINTENANCE_QUEUE, { connection, prefix: config.redis_prefix });
  // Connection errors are retried by ioredis and surface on the commands that fail; no unhandled 'error' events.
  for (const q of [sync, maintenance]) q.on('error', () => undefined);
  // Lazily connected: an API that never receives an event never opens it.
  let redis: ReturnType<typeof createRedis> | null = null;
  return {
    queues: [sync, maintenance],
    sync,
    maintenance,
    config,
    enqueueJobEvents(events) {
      redis ??= createRedis(config, { name: 'bp-events-producer' });
      return enqueueJobEventsTo(redis, config, events);
    },
    async close() {
      await Promise.all([sync.close(), maintenance.close()]);
      if (redis) await closeRedis(redis);
    },
  };
}
