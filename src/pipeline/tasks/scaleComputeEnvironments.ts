/**
 * scaleComputeEnvironments — the scaling hack (use_auto_scaler, queues with
 * forced_scaling): sum the vCPUs of jobs in SUBMITTED..RUNNING per queue, add
 * them up per the queue's first compute environment, cap at its maxvCpus, and
 * set its minvCpus to that when different — only for MANAGED compute
 * environments that are VALID and ENABLED.
 *
 * The mirror's sum only says whether a change looks due (a steady queue costs
 * no extra call). Before UpdateComputeEnvironment the demand of the compute
 * environment's queues is asked of AWS again (confirmedDemand.ts) and the
 * change is made only if AWS's figure still calls for it.
 *
 * Schedule: every scale_period seconds, only with use_auto_scaler. Retry: MAINTENANCE_RETRY.
 */
import { UpdateComputeEnvironmentCommand } from '@aws-sdk/client-batch';
import { activeVcpusByQueue } from '../../store/jobs/maintenance';
import { listActivatedQueues } from '../../store/queues';
import { computeEnvironmentsByQueue, describeComputeEnvironments, matchesComputeEnvironment } from '../../aws/batch';
import type { TaskContext } from '../context';
import { confirmedActiveVcpus } from '../confirmedDemand';
import { MAINTENANCE_QUEUE } from '../names';
import { defineTask, MAINTENANCE_RETRY, SCHEDULED_KEEP } from '../task';

export interface ScalingChange {
  computeEnvironment: string;
  from: number;
  to: number;
}

export async function scaleComputeEnvironments(ctx: TaskContext): Promise<{ changes: ScalingChange[]; skipped: string[] }> {
  const queues = (await listActivatedQueues(ctx.db)).filter((q) => q.forced_scaling).map((q) => q.job_queue);
  if (queues.length === 0) return { changes: [], skipped: [] };
  const vcpus = await activeVcpusByQueue(ctx.db, queues);
  const cesByQueue = await computeEnvironmentsByQueue(ctx.aws.batch, queues);

  const wanted = new Map<string, number>();
  const queuesOfCe = new Map<string, string[]>();
  for (const queue of queues) {
    const first = cesByQueue.get(queue)?.[0];
    if (!first) continue;
    wanted.set(first, (wanted.get(first) ?? 0) + (vcpus.get(queue) ?? 0));
    queuesOfCe.set(first, [...(queuesOfCe.get(first) ?? []), queue]);
  }
  const details = await describeComputeEnvironments(ctx.aws.batch, [...wanted.keys()]);
  const changes: ScalingChange[] = [];
  const skipped: string[] = [];
  for (const [ref, sum] of wanted) {
    const ce = details.find((d) => matchesComputeEnvironment(d, ref));
    const res = ce?.computeResources;
    if (!ce || ce.type !== 'MANAGED' || ce.status !== 'VALID' || ce.state !== 'ENABLED' || !res || res.maxvCpus === undefined) {
      skipped.push(ref);
      continue;
    }
    const current = res.minvCpus ?? 0;
    if (Math.min(Math.ceil(sum), res.maxvCpus) === current) continue;
    const confirmed = await sumConfirmed(ctx, queuesOfCe.get(ref) ?? []);
    const target = Math.min(Math.ceil(confirmed), res.maxvCpus);
    if (target === current) continue;
    await ctx.aws.batch.send(
      new UpdateComputeEnvironmentCommand({ computeEnvironment: ce.computeEnvironmentArn ?? ref, computeResources: { minvCpus: target } }),
    );
    changes.push({ computeEnvironment: ce.computeEnvironmentName ?? ref, from: current, to: target });
  }
  return { changes, skipped };
}

async function sumConfirmed(ctx: TaskContext, queues: string[]): Promise<number> {
  const sums = await Promise.all(queues.map((q) => confirmedActiveVcpus(ctx.aws.batch, ctx.db, q)));
  return sums.reduce((a, b) => a + b, 0);
}

export const scaleComputeEnvironmentsTask = defineTask({
  name: 'scaleComputeEnvironments',
  queue: MAINTENANCE_QUEUE,
  schedule: { schedulerId: 'scale-compute-environments', everyMs: (config) => config.scale_period * 1000 },
  switchedOnBy: 'use_auto_scaler',
  retry: MAINTENANCE_RETRY,
  keep: SCHEDULED_KEEP,
  metric: 'task',
  run: (ctx) => scaleComputeEnvironments(ctx),
});
