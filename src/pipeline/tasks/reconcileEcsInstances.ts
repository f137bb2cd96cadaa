/**
 * reconcileEcsInstances — from the activated queues' compute environments to
 * their ECS clusters, the clusters' tasks and container instances, and the
 * EC2 instances under them: upserts `instances` (disappeared_at for those
 * gone), appends instance_event_log (which task ARNs run where) and fills
 * task_arns_to_instance_info so a job shows the instance and IPs it ran on.
 * Any failed call aborts the run before anything is marked disappeared.
 *
 * Schedule: every scale_period seconds. Retry: MAINTENANCE_RETRY.
 */
import { DescribeInstancesCommand, type EC2Client, type Instance } from '@aws-sdk/client-ec2';
import {
  DescribeContainerInstancesCommand,
  DescribeTasksCommand,
  ListContainerInstancesCommand,
  ListTasksCommand,
  type ECSClient,
} from '@aws-sdk/client-ecs';
import type { Knex } from 'knex';
import {
  appendInstanceEventLog,
  knownTaskInstances,
  markInstancesDisappeared,
  upsertInstances,
  upsertTaskInstanceInfo,
  type InstanceInput,
} from '../../store/instances';
import type { Logger } from '../../log';
import { listActivatedQueues } from '../../store/queues';
import type { TaskInstanceInfo } from '../../types';
import { computeEnvironmentsByQueue, describeComputeEnvironments } from '../../aws/batch';
import type { TaskContext } from '../context';
import { MAINTENANCE_QUEUE } from '../names';
import { defineTask, MAINTENANCE_RETRY, SCHEDULED_KEEP } from '../task';

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

interface ClusterState {
  clusterArn: string;
  computeEnvironmentArn: string;
  /** EC2 instance id -> task ARNs running on it. */
  tasksByInstance: Map<string, string[]>;
}

async function listAll(first: (token?: string) => Promise<{ arns: string[]; next?: string }>): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const page = await first(token);
    out.push(...page.arns);
    token = page.next;
  } while (token);
  return out;
}

/**
 * A cluster's running tasks and the EC2 instances under them. A task never
 * moves, so only tasks not yet recorded in task_arns_to_instance_info are
 * described (DescribeTasks, 100 a call): a steady cluster costs its ListTasks
 * pages and a DescribeTasks per 100 tasks started since the last run, not
 * per 100 running.
 */
async function readCluster(ecs: ECSClient, db: Knex, clusterArn: string, computeEnvironmentArn: string): Promise<ClusterState> {
  const taskArns = await listAll(async (nextToken) => {
    const r = await ecs.send(new ListTasksCommand({ cluster: clusterArn, nextToken }));
    return { arns: r.taskArns ?? [], next: r.nextToken };
  });
  const known = await knownTaskInstances(db, taskArns);
  const taskToContainerInstance = new Map<string, string>();
  for (const part of chunks(taskArns.filter((t) => !known.has(t)), 100)) {
    const r = await ecs.send(new DescribeTasksCommand({ cluster: clusterArn, tasks: part }));
    for (const t of r.tasks ?? []) {
      if (t.taskArn && t.containerInstanceArn) taskToContainerInstance.set(t.taskArn, t.containerInstanceArn);
    }
  }
  const containerInstances = new Set(
    await listAll(async (nextToken) => {
      const r = await ecs.send(new ListContainerInstancesCommand({ cluster: clusterArn, nextToken }));
      return { arns: r.containerInstanceArns ?? [], next: r.nextToken };
    }),
  );
  for (const ci of taskToContainerInstance.values()) containerInstances.add(ci);

  const ec2ByContainerInstance = new Map<string, string>();
  for (const part of chunks([...containerInstances], 100)) {
    const r = await ecs.send(new DescribeContainerInstancesCommand({ cluster: clusterArn, containerInstances: part }));
    for (const ci of r.containerInstances ?? []) {
      if (ci.containerInstanceArn && ci.ec2InstanceId) ec2ByContainerInstance.set(ci.containerInstanceArn, ci.ec2InstanceId);
    }
  }
  const tasksByInstance = new Map<string, string[]>([...ec2ByContainerInstance.values()].map((id) => [id, []]));
  const place = (task: string, ec2: string) => {
    const list = tasksByInstance.get(ec2);
    if (list) list.push(task);
    else tasksByInstance.set(ec2, [task]);
  };
  for (const [task, ci] of taskToContainerInstance) {
    const ec2 = ec2ByContainerInstance.get(ci);
    if (ec2) place(task, ec2);
  }
  for (const [task, ec2] of known) place(task, ec2);
  return { clusterArn, computeEnvironmentArn, tasksByInstance };
}

/** EC2 ids named in an InvalidInstanceID.NotFound message ("The instance IDs 'i-1, i-2' do not exist"). */
export function missingInstanceIds(err: unknown): string[] {
  if (!(err instanceof Error) || err.name !== 'InvalidInstanceID.NotFound') return [];
  return err.message.match(/i-[0-9a-zA-Z]+/g) ?? [];
}

/**
 * DescribeInstances of the ids ECS still names. EC2 forgets a terminated
 * instance about an hour after it ends, while ECS may still list its container
 * instance; EC2 then fails the whole call with InvalidInstanceID.NotFound. The
 * forgotten ids are dropped and the rest asked again, so one stale instance
 * cannot stop the reconciliation of all the others.
 */
export async function describeExistingInstances(ec2: EC2Client, ids: string[], logger?: Logger): Promise<Instance[]> {
  const out: Instance[] = [];
  for (let part of chunks(ids, 100)) {
    while (part.length > 0) {
      try {
        out.push(...(await describeAllPages(ec2, part)));
        break;
      } catch (err) {
        const missing = new Set(missingInstanceIds(err));
        const remaining = part.filter((id) => !missing.has(id));
        if (remaining.length === part.length) throw err; // not a forgotten-instance error we can act on
        logger?.warn({ forgotten: [...missing] }, 'EC2 no longer knows these instances; describing the others');
        part = remaining;
      }
    }
  }
  return out;
}

async function describeAllPages(ec2: EC2Client, ids: string[]): Promise<Instance[]> {
  const out: Instance[] = [];
  let NextToken: string | undefined;
  do {
    const r = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids, NextToken }));
    for (const res of r.Reservations ?? []) out.push(...(res.Instances ?? []));
    NextToken = r.NextToken;
  } while (NextToken);
  return out;
}

export interface ReconcileResult {
  clusters: number;
  instances: number;
  disappeared: string[];
  tasks: number;
}

export async function reconcileEcsInstances(ctx: TaskContext): Promise<ReconcileResult> {
  const queues = (await listActivatedQueues(ctx.db)).map((q) => q.job_queue);
  const ces = queues.length ? [...new Set([...(await computeEnvironmentsByQueue(ctx.aws.batch, queues)).values()].flat())] : [];
  const details = ces.length ? await describeComputeEnvironments(ctx.aws.batch, ces) : [];
  const clusters = new Map<string, string>();
  for (const d of details) if (d.ecsClusterArn) clusters.set(d.ecsClusterArn, d.computeEnvironmentArn ?? '');

  const states: ClusterState[] = [];
  for (const [clusterArn, ceArn] of clusters) states.push(await readCluster(ctx.aws.ecs, ctx.db, clusterArn, ceArn));

  const where = new Map<string, ClusterState>();
  for (const s of states) for (const id of s.tasksByInstance.keys()) where.set(id, s);
  const instances = await describeExistingInstances(ctx.aws.ec2, [...where.keys()], ctx.logger);

  const now = new Date();
  const rows: InstanceInput[] = [];
  const taskInfo: TaskInstanceInfo[] = [];
  const eventLog: { instance_id: string; active_jobs: string[] }[] = [];
  for (const i of instances) {
    if (!i.InstanceId) continue;
    const cluster = where.get(i.InstanceId)!;
    rows.push({
      instance_id: i.InstanceId,
      launched_at: i.LaunchTime ?? null,
      ami: i.ImageId ?? '',
      instance_type: i.InstanceType ?? '',
      compute_environment_arn: cluster.computeEnvironmentArn,
      ecs_cluster_arn: cluster.clusterArn,
      availability_zone: i.Placement?.AvailabilityZone ?? '',
      spot_instance_request_id: i.SpotInstanceRequestId ?? null,
      private_ip_address: i.PrivateIpAddress ?? null,
      public_ip_address: i.PublicIpAddress ?? null,
    });
    const tasks = cluster.tasksByInstance.get(i.InstanceId) ?? [];
    eventLog.push({ instance_id: i.InstanceId, active_jobs: [...tasks].sort() });
    for (const task_arn of tasks) {
      taskInfo.push({ task_arn, instance_id: i.InstanceId, public_ip: i.PublicIpAddress ?? '', private_ip: i.PrivateIpAddress ?? '' });
    }
  }
  await upsertInstances(ctx.db, rows, now);
  const disappeared = await markInstancesDisappeared(ctx.db, rows.map((r) => r.instance_id), now);
  await appendInstanceEventLog(ctx.db, eventLog, now);
  await upsertTaskInstanceInfo(ctx.db, taskInfo);
  return { clusters: clusters.size, instances: rows.length, disappeared, tasks: taskInfo.length };
}

export const reconcileEcsInstancesTask = defineTask({
  name: 'reconcileEcsInstances',
  queue: MAINTENANCE_QUEUE,
  schedule: { schedulerId: 'reconcile-ecs-instances', everyMs: (config) => config.scale_period * 1000 },
  retry: MAINTENANCE_RETRY,
  keep: SCHEDULED_KEEP,
  metric: 'task',
  run: (ctx) => reconcileEcsInstances(ctx),
});
