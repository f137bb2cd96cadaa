/** Every periodic task with its schedule (each defined beside its task). */
import type { Config } from '../config/schema';
import { cleanOldRowsSchedule } from './tasks/cleanOldRows';
import { killTimedOutJobsSchedule } from './tasks/killTimedOutJobs';
import { logComputeEnvironmentsSchedule } from './tasks/logComputeEnvironments';
import { reconcileEcsInstancesSchedule } from './tasks/reconcileEcsInstances';
import { scaleComputeEnvironmentsSchedule } from './tasks/scaleComputeEnvironments';
import { syncRoundSchedule } from './tasks/syncRound';
import { terminateStuckInstancesSchedule } from './tasks/terminateStuckInstances';

export interface Schedule {
  id: string;
  queue: string;
  name: string;
  everyMs: number;
  enabled: boolean;
}

export function allSchedules(config: Config): Schedule[] {
  return [
    syncRoundSchedule(config),
    killTimedOutJobsSchedule(config),
    scaleComputeEnvironmentsSchedule(config),
    reconcileEcsInstancesSchedule(config),
    logComputeEnvironmentsSchedule(config),
    terminateStuckInstancesSchedule(config),
    cleanOldRowsSchedule(config),
  ];
}
