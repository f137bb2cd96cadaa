/**
 * killTimedOutJobs — a job whose PYBATCH_TIMEOUT has passed since it was
 * created, not terminal and not already asked to terminate, is terminated
 * with TerminateJob and marked termination_requested.
 *
 * Schedule: every scale_period seconds. Retry: MAINTENANCE_RETRY (the next
 * period retries anything left anyway).
 */
import { terminateJobs } from '../../aws/batch';
import { findTimedOutJobs, markTerminationRequested } from '../../store/jobs/maintenance';
import type { TaskContext } from '../context';
import { MAINTENANCE_QUEUE } from '../names';
import { defineTask, MAINTENANCE_RETRY, SCHEDULED_KEEP } from '../task';

export const TIMEOUT_REASON = 'Terminated by batchiepatchie: PYBATCH_TIMEOUT exceeded';

export async function killTimedOutJobs(ctx: TaskContext): Promise<{ terminated: string[]; failed: string[] }> {
  const jobs = await findTimedOutJobs(ctx.db, ctx.now());
  const outcomes = await terminateJobs(ctx.aws.batch, jobs.map((job) => job.job_id), TIMEOUT_REASON);
  const terminated: string[] = [];
  const failed: string[] = [];
  for (const [jobId, outcome] of outcomes) {
    if (outcome === 'OK') terminated.push(jobId);
    else {
      failed.push(jobId);
      ctx.logger.warn({ jobId, err: outcome }, 'TerminateJob failed for a timed-out job');
    }
  }
  await markTerminationRequested(ctx.db, terminated);
  if (failed.length > 0 && terminated.length === 0) throw new Error(`TerminateJob failed for ${failed.length} timed-out job(s)`);
  return { terminated, failed };
}

export const killTimedOutJobsTask = defineTask({
  name: 'killTimedOutJobs',
  queue: MAINTENANCE_QUEUE,
  schedule: { schedulerId: 'kill-timed-out-jobs', everyMs: (config) => config.scale_period * 1000 },
  retry: MAINTENANCE_RETRY,
  keep: SCHEDULED_KEEP,
  metric: 'task',
  run: (ctx) => killTimedOutJobs(ctx),
});
