/**
 * logComputeEnvironments — records the state of the activated queues'
 * compute environments (desired/min/max vCPUs, state, service role) in
 * compute_environment_event_log, a row only when something changed.
 *
 * Schedule: every scale_period seconds. Retry: MAINTENANCE_RETRY.
 */
import { recordComputeEnvironmentState } from '../../store/eventLogs';
import { listActivatedQueues } from '../../store/queues';
import { computeEnvironmentsByQueue, describeComputeEnvironments } from '../../aws/batch';
import type { TaskContext } from '../context';
import { MAINTENANCE_QUEUE } from '../names';
import { defineTask, MAINTENANCE_RETRY, SCHEDULED_KEEP } from '../task';

export async function logComputeEnvironments(ctx: TaskContext): Promise<{ environments: number; recorded: number }> {
  const queues = (await listActivatedQueues(ctx.db)).map((q) => q.job_queue);
  if (queues.length === 0) return { environments: 0, recorded: 0 };
  const ces = [...new Set([...(await computeEnvironmentsByQueue(ctx.aws.batch, queues)).values()].flat())];
  const details = await describeComputeEnvironments(ctx.aws.batch, ces);
  const at = ctx.now();
  let recorded = 0;
  for (const ce of details) {
    const wrote = await recordComputeEnvironmentState(
      ctx.db,
      {
        compute_environment: ce.computeEnvironmentName ?? ce.computeEnvironmentArn ?? '',
        desired_vcpus: ce.computeResources?.desiredvCpus ?? null,
        max_vcpus: ce.computeResources?.maxvCpus ?? null,
        min_vcpus: ce.computeResources?.minvCpus ?? null,
        state: ce.state ?? null,
        service_role: ce.serviceRole ?? null,
      },
      at,
    );
    if (wrote) recorded++;
  }
  return { environments: details.length, recorded };
}

export const logComputeEnvironmentsTask = defineTask({
  name: 'logComputeEnvironments',
  queue: MAINTENANCE_QUEUE,
  schedule: { schedulerId: 'log-compute-environments', everyMs: (config) => config.scale_period * 1000 },
  retry: MAINTENANCE_RETRY,
  keep: SCHEDULED_KEEP,
  metric: 'task',
  run: (ctx) => logComputeEnvironments(ctx),
});
