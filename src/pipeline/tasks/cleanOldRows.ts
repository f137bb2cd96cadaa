/**
 * cleanOldRows — the cleaner (use_cleaner): deletes finished jobs (with their
 * instance info) and instance event logs older than retention_days.
 *
 * Schedule: every clean_period seconds, only with use_cleaner. Retry: MAINTENANCE_RETRY.
 */
import { deleteInstanceEventLogOlderThan } from '../../store/instances';
import { deleteJobsOlderThan } from '../../store/jobs/maintenance';
import type { Config } from '../../config/schema';
import type { TaskContext } from '../context';
import { MAINTENANCE_JOBS, MAINTENANCE_QUEUE } from '../names';

export const cleanOldRowsSchedule = (config: Config) => ({
  id: 'clean-old-rows',
  queue: MAINTENANCE_QUEUE,
  name: MAINTENANCE_JOBS.cleanOldRows,
  everyMs: config.clean_period * 1000,
  enabled: config.use_cleaner,
});

export async function cleanOldRows(ctx: TaskContext): Promise<{ jobs: number; taskInfo: number; instanceEvents: number }> {
  // Wall clock: compared with last_updated and instance log timestamps, which we stamp.
  const cutoff = new Date(Date.now() - ctx.config.retention_days * 86_400_000);
  const { jobs, taskInfo } = await deleteJobsOlderThan(ctx.db, cutoff);
  const instanceEvents = await deleteInstanceEventLogOlderThan(ctx.db, cutoff);
  return { jobs, taskInfo, instanceEvents };
}
