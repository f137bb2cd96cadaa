/**
 * terminateStuckInstances — the terminator (kill_stuck_jobs): every EC2
 * instance hosting a job stuck in STARTING for more than
 * stuck_starting_seconds is terminated, up to
 * terminator_max_instances_per_run instances a run (the oldest stuck first;
 * the rest wait for the next run, logged).
 *
 * The mirror only proposes (STARTING jobs created long enough ago, whose task
 * the ECS reconciliation placed on an instance). Right before acting, AWS
 * confirms each, all batched and through the shared rate limit:
 *  1. DescribeJobs: the job is still STARTING, with that same task;
 *  2. ECS DescribeTasks: the task is not stopped and was created (the job
 *     went STARTING) more than stuck_starting_seconds ago, by AWS's clock;
 *  3. ECS DescribeContainerInstances: its container instance is that EC2 instance.
 * Queues whose last successful sync is older than three sync periods are left
 * alone (freshness.ts).
 *
 * Schedule: every sync_period seconds, only with kill_stuck_jobs. Retry:
 * NO_RETRY, one attempt; the next period tries again (terminating is not
 * something to hammer).
 */
import { TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeContainerInstancesCommand, DescribeTasksCommand, type ECSClient } from '@aws-sdk/client-ecs';
import { describeJobs } from '../../aws/batch';
import { findStuckStartingCandidates, type StuckStartingCandidate } from '../../store/jobs/maintenance';
import type { TaskContext } from '../context';
import { queueFreshness } from '../freshness';
import { mapJobDetail } from '../mapping';
import { metrics } from '../metrics';
import { MAINTENANCE_QUEUE } from '../names';
import { defineTask, NO_RETRY, SCHEDULED_KEEP } from '../task';

const ECS_MAX_IDS = 100;

export interface TerminatorResult {
  /** Instances terminated this run, the oldest stuck first. */
  terminated: string[];
  /** Per terminated (or failed) instance: the stuck jobs AWS confirmed on it. */
  jobIds: Record<string, string[]>;
  /** TerminateInstances refused. */
  failed: string[];
  /** Confirmed stuck, left for the next run by terminator_max_instances_per_run. */
  overCap: string[];
  /** Candidates of the mirror AWS did not confirm, with why. */
  unconfirmed: { jobId: string; why: string }[];
  /** Queues left alone: not synced successfully for three sync periods. */
  staleQueues: string[];
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

interface TaskFacts {
  createdAt: number | null;
  lastStatus: string | undefined;
  containerInstanceArn: string | undefined;
}

/** ECS's word on the tasks (by cluster) and on their container instances' EC2 ids. */
async function describePlacements(
  ecs: ECSClient,
  byCluster: Map<string, string[]>,
): Promise<{ tasks: Map<string, TaskFacts>; ec2ByContainerInstance: Map<string, string> }> {
  const tasks = new Map<string, TaskFacts>();
  const ec2ByContainerInstance = new Map<string, string>();
  for (const [cluster, taskArns] of byCluster) {
    const containerInstances = new Set<string>();
    for (const part of chunks(taskArns, ECS_MAX_IDS)) {
      const r = await ecs.send(new DescribeTasksCommand({ cluster, tasks: part }));
      for (const t of r.tasks ?? []) {
        if (!t.taskArn) continue;
        tasks.set(t.taskArn, { createdAt: t.createdAt?.getTime() ?? null, lastStatus: t.lastStatus, containerInstanceArn: t.containerInstanceArn });
        if (t.containerInstanceArn) containerInstances.add(t.containerInstanceArn);
      }
    }
    for (const part of chunks([...containerInstances], ECS_MAX_IDS)) {
      const r = await ecs.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: part }));
      for (const ci of r.containerInstances ?? []) {
        if (ci.containerInstanceArn && ci.ec2InstanceId) ec2ByContainerInstance.set(ci.containerInstanceArn, ci.ec2InstanceId);
      }
    }
  }
  return { tasks, ec2ByContainerInstance };
}

export async function terminateStuckInstances(ctx: TaskContext): Promise<TerminatorResult> {
  const result: TerminatorResult = { terminated: [], jobIds: {}, failed: [], overCap: [], unconfirmed: [], staleQueues: [] };
  const withhold = (reason: string, n: number) => n > 0 && metrics.actionsWithheld.inc({ task: 'terminateStuckInstances', reason }, n);
  // AWS time: compared with AWS's createdAt of jobs and tasks.
  const cutoff = ctx.now().getTime() - ctx.config.stuck_starting_seconds * 1000;
  const candidates = await findStuckStartingCandidates(ctx.db, new Date(cutoff));
  if (candidates.length === 0) return result;

  const { fresh, stale } = await queueFreshness(ctx, 'terminateStuckInstances', candidates.map((c) => c.job_queue));
  result.staleQueues = stale.map((s) => s.queue);
  const inFresh = candidates.filter((c) => fresh.has(c.job_queue));
  withhold('stale_queue', candidates.length - inFresh.length);
  if (inFresh.length === 0) return result;
  const unconfirmed = (c: StuckStartingCandidate, why: string) => result.unconfirmed.push({ jobId: c.job_id, why });

  // 1. Batch: still STARTING, with the task the mirror placed on the instance.
  const described = new Map((await describeJobs(ctx.aws.batch, inFresh.map((c) => c.job_id))).map((d) => [d.jobId, d]));
  const starting: StuckStartingCandidate[] = [];
  for (const c of inFresh) {
    const detail = described.get(c.job_id);
    if (!detail) {
      unconfirmed(c, 'AWS does not know the job');
      continue;
    }
    let job;
    try {
      job = mapJobDetail(detail);
    } catch (err) {
      unconfirmed(c, `AWS's description cannot be read: ${(err as Error).message}`);
      continue;
    }
    if (job.status !== 'STARTING') unconfirmed(c, `AWS says ${job.status}`);
    else if (job.task_arn !== c.task_arn) unconfirmed(c, `AWS says its task is ${job.task_arn ?? 'none'}, not ${c.task_arn}`);
    else if (!fresh.has(job.job_queue)) unconfirmed(c, `AWS says it is in queue ${job.job_queue}, not freshly synced`);
    else if (!c.ecs_cluster_arn) unconfirmed(c, `the ECS cluster of ${c.instance_id} is not known yet`);
    else starting.push(c);
  }

  // 2 and 3. ECS: the task, how long it has been starting, and the EC2 instance it is on.
  const byCluster = new Map<string, string[]>();
  for (const c of starting) byCluster.set(c.ecs_cluster_arn!, [...(byCluster.get(c.ecs_cluster_arn!) ?? []), c.task_arn]);
  const { tasks, ec2ByContainerInstance } = await describePlacements(ctx.aws.ecs, byCluster);
  /** Instance -> confirmed stuck jobs, and since when the oldest of them has been starting. */
  const stuck = new Map<string, { jobIds: string[]; since: number }>();
  for (const c of starting) {
    const task = tasks.get(c.task_arn);
    const ec2 = task?.containerInstanceArn ? ec2ByContainerInstance.get(task.containerInstanceArn) : undefined;
    if (!task) unconfirmed(c, 'ECS does not know its task');
    else if (task.lastStatus === 'STOPPED') unconfirmed(c, 'ECS says its task stopped');
    else if (task.createdAt === null || task.createdAt > cutoff) unconfirmed(c, 'ECS says its task started less than stuck_starting_seconds ago');
    else if (ec2 !== c.instance_id) unconfirmed(c, `ECS says its task is on ${ec2 ?? 'no known instance'}, not ${c.instance_id}`);
    else {
      const entry = stuck.get(c.instance_id) ?? { jobIds: [], since: task.createdAt };
      entry.jobIds.push(c.job_id);
      entry.since = Math.min(entry.since, task.createdAt);
      stuck.set(c.instance_id, entry);
    }
  }
  withhold('not_confirmed', result.unconfirmed.length);
  if (result.unconfirmed.length > 0) {
    ctx.logger.info({ unconfirmed: result.unconfirmed }, 'STARTING jobs of the mirror not confirmed stuck by AWS: their instances are left alone');
  }

  const ordered = [...stuck.entries()].sort(([a, x], [b, y]) => x.since - y.since || a.localeCompare(b));
  const cap = ctx.config.terminator_max_instances_per_run;
  const targets = ordered.slice(0, cap);
  result.overCap = ordered.slice(cap).map(([id]) => id);
  if (result.overCap.length > 0) {
    withhold('over_cap', ordered.slice(cap).reduce((n, [, e]) => n + e.jobIds.length, 0));
    ctx.logger.warn(
      { cap, overCap: result.overCap },
      `more stuck instances than terminator_max_instances_per_run (${cap}): the rest wait for the next run`,
    );
  }
  for (const [instanceId, { jobIds }] of targets) {
    result.jobIds[instanceId] = jobIds;
    try {
      await ctx.aws.ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
      result.terminated.push(instanceId);
      ctx.logger.warn({ instanceId, jobIds }, 'terminated an instance with jobs stuck in STARTING (confirmed by AWS)');
    } catch (err) {
      result.failed.push(instanceId);
      ctx.logger.warn({ instanceId, jobIds, err: (err as Error).message }, 'TerminateInstances failed for a stuck instance');
    }
  }
  if (result.failed.length > 0 && result.terminated.length === 0) {
    throw new Error(`TerminateInstances failed for ${result.failed.length} stuck instance(s)`);
  }
  return result;
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
