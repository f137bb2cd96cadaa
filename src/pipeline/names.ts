/** BullMQ queue and job names of the pipeline: the one list both scheduler and workers read. */

/** Sync rounds: the round job, its per-queue / per-array-parent tasks and its finishing step. */
export const SYNC_QUEUE = 'bp-sync';
/** Periodic housekeeping: timeouts, scaling, ECS/EC2, compute environments, terminator, cleaner. */
export const MAINTENANCE_QUEUE = 'bp-maintenance';

export const PIPELINE_QUEUE_NAMES = [SYNC_QUEUE, MAINTENANCE_QUEUE] as const;

export const SYNC_JOBS = {
  round: 'syncRound',
  queue: 'syncQueue',
  arrayChildren: 'syncArrayChildren',
  finish: 'finishRound',
} as const;

export const MAINTENANCE_JOBS = {
  killTimedOutJobs: 'killTimedOutJobs',
  scaleComputeEnvironments: 'scaleComputeEnvironments',
  reconcileEcsInstances: 'reconcileEcsInstances',
  logComputeEnvironments: 'logComputeEnvironments',
  terminateStuckInstances: 'terminateStuckInstances',
  cleanOldRows: 'cleanOldRows',
} as const;
export type MaintenanceJobName = (typeof MAINTENANCE_JOBS)[keyof typeof MAINTENANCE_JOBS];

/** BullMQ custom job ids may not contain ':'; queue names and scheduler ids may. */
export function safeJobIdPart(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]/g, '_');
}
