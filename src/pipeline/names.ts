/** BullMQ queue names of the pipeline; job names are the task definitions' (tasks/index.ts). */

/** Sync rounds: the round job, its per-queue / per-array-parent tasks and its finishing step. */
export const SYNC_QUEUE = 'bp-sync';
/** Periodic housekeeping: timeouts, scaling, ECS/EC2, compute environments, terminator, cleaner. */
export const MAINTENANCE_QUEUE = 'bp-maintenance';

export const PIPELINE_QUEUE_NAMES = [SYNC_QUEUE, MAINTENANCE_QUEUE] as const;
export type PipelineQueueName = (typeof PIPELINE_QUEUE_NAMES)[number];

/** BullMQ custom job ids may not contain ':'; queue names and scheduler ids may. */
export function safeJobIdPart(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]/g, '_');
}
