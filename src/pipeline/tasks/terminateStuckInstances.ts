/**
 * terminateStuckInstances — the terminator (kill_stuck_jobs): the EC2
 * instance hosting jobs stuck in STARTING for more than
 * stuck_starting_seconds is terminated, one instance per run, so a bad
 * reading never takes down a fleet at once.
 *
 * Schedule: every sync_period seconds, only with kill_stuck_jobs. Retry:
 * NO_RETRY, one attempt; the next period tries again (terminating is not
 * something to hammer).
 */
import { TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { findStuckStartingInstances } from '../../store/jobs/maintenance';
import type { TaskContext } from '../context';
import { MAINTENANCE_QUEUE } from '../names';
import { defineTask, NO_RETRY, SCHEDULED_KEEP } from '../task';

export async function terminateStuckInstances(ctx: TaskContext): Promise<{ terminated: string | null; jobIds: string[] }> {
  // Wall clock: compared with last_updated, which Postgres stamps.
  const cutoff = new Date(Date.now() - ctx.config.stuck_starting_seconds * 1000);
  const stuck = await findStuckStartingInstances(ctx.db, cutoff);
  const target = stuck[0];
  if (!target) return { terminated: null, jobIds: [] };
  await ctx.aws.ec2.send(new TerminateInstancesCommand({ InstanceIds: [target.instance_id] }));
  ctx.logger.warn({ instanceId: target.instance_id, jobIds: target.job_ids }, 'terminated an instance with jobs stuck in STARTING');
  return { terminated: target.instance_id, jobIds: target.job_ids };
}

export const terminateStuckInstancesTask = defineTask({
  name: 'terminateStuckInstances',
  queue: MAINTENANCE_QUEUE,
  schedule: { schedulerId: 'terminate-stuck-instances', everyMs: (config) => config.sync_period * 1000 },
  switchedOnBy: 'kill_stuck_jobs',
  retry: NO_RETRY,
  keep: SCHEDULED_KEEP,
  metric: 'task',
  run: (ctx) => terminateStuckInstances(ctx),
});
