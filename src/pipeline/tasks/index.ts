/**
 * Every pipeline task, in one list: the scheduler registers the periodic
 * ones, workers dispatch by name, runNow and the metrics take names from
 * here. Adding a task: its file (one definition) plus a line below.
 */
import { MAINTENANCE_QUEUE, type PipelineQueueName } from '../names';
import type { TaskDefinition } from '../task';
import { cleanOldRowsTask } from './cleanOldRows';
import { finishRoundTask } from './finishRound';
import { killTimedOutJobsTask } from './killTimedOutJobs';
import { logComputeEnvironmentsTask } from './logComputeEnvironments';
import { reconcileEcsInstancesTask } from './reconcileEcsInstances';
import { rollUpStatsTask } from './rollUpStats';
import { scaleComputeEnvironmentsTask } from './scaleComputeEnvironments';
import { syncArrayChildrenTask } from './syncArrayChildren';
import { syncQueueTask } from './syncQueue';
import { syncRoundTask } from './syncRound';
import { terminateStuckInstancesTask } from './terminateStuckInstances';

export const TASKS = [
  syncRoundTask,
  syncQueueTask,
  syncArrayChildrenTask,
  finishRoundTask,
  killTimedOutJobsTask,
  scaleComputeEnvironmentsTask,
  reconcileEcsInstancesTask,
  logComputeEnvironmentsTask,
  terminateStuckInstancesTask,
  cleanOldRowsTask,
  rollUpStatsTask,
] as const;

type AnyTask = (typeof TASKS)[number];
export type TaskName = AnyTask['name'];
/** The maintenance tasks (each periodic, none with job data): what runMaintenanceTask runs. */
export type MaintenanceTaskName = Extract<AnyTask, { queue: typeof MAINTENANCE_QUEUE }>['name'];

const BY_NAME: ReadonlyMap<string, TaskDefinition> = new Map((TASKS as readonly TaskDefinition[]).map((task) => [task.name, task]));

/** The definition of a BullMQ job name on a queue; undefined for a name that queue has no task of. */
export function taskNamed(name: string, queue?: PipelineQueueName): TaskDefinition | undefined {
  const task = BY_NAME.get(name);
  return task && (queue === undefined || task.queue === queue) ? task : undefined;
}

export type ScheduledTask = TaskDefinition & Required<Pick<TaskDefinition, 'schedule'>>;

/** Periodic tasks: those with a job scheduler. */
export const SCHEDULED_TASKS: readonly ScheduledTask[] = (TASKS as readonly TaskDefinition[]).filter(
  (task): task is ScheduledTask => task.schedule !== undefined,
);
