/**
 * cleanOldRows — the cleaner (use_cleaner): deletes finished jobs (with their
 * instance info) and instance event logs older than retention_days.
 *
 * Schedule: every clean_period seconds, only with use_cleaner. Retry: MAINTENANCE_RETRY.
 */
import { deleteInstanceEventLogOlderThan } from '../../store/instances';
import { deleteJobsOlderThan } from '../../store/jobs/maintenance';
import type { TaskContext } from '../context';
import { MAINTENANCE_QUEUE } from '../names';
import { defineTask, MAINTENANCE_RETRY, SCHEDULED_KEEP } from '../task';

export async function cleanOldRows(ctx: TaskContext): Promise<{ jobs: number; taskInfo: number; names: number; instanceEvents: number }> {
  // Wall clock: compared with last_updated and instance log timestamps, which we stamp.
  const cutoff = new Date(Date.now() - ctx.config.retention_days * 86_400_000);
  const { jobs, taskInfo, names, writersStillOpen } = await deleteJobsOlderThan(ctx.db, cutoff);
  if (writersStillOpen) {
    ctx.logger.warn('cleaner: a writer of jobs stayed open past the job_names prune; a job it wrote may be missing from job_names');
  }
  const instanceEvents = await deleteInstanceEventLogOlderThan(ctx.db, cutoff);
  return { jobs, taskInfo, names, instanceEvents };
}

export const cleanOldRowsTask = defineTask({
  name: 'cleanOldRows',
  queue: MAINTENANCE_QUEUE,
  schedule: { schedulerId: 'clean-old-rows', everyMs: (config) => config.clean_period * 1000 },
  switchedOnBy: 'use_cleaner',
  retry: MAINTENANCE_RETRY,
  keep: SCHEDULED_KEEP,
  metric: 'task',
  run: (ctx) => cleanOldRows(ctx),
});
