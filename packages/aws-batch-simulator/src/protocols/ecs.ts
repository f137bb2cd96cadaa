/**
 * Amazon ECS, JSON 1.1 (X-Amz-Target AmazonEC2ContainerServiceV20141113.*):
 * the clusters behind compute environments, their container instances and
 * the tasks running Batch jobs.
 */
import type { Cluster, ContainerInstance, Failure, Task } from '@aws-sdk/client-ecs';
import { z } from 'zod';
import type { SimCluster, SimContainerInstance, SimTask } from '../entities';
import type { SimModel } from '../model';
import { ApiError, type Protocol, jsonResponse, offsetToken, parseJsonBody, parseOffsetToken } from './common';
import { AMZ_JSON, type OnTheWire, epochSeconds, jsonTargetError, targetOperation } from './jsonTarget';
import { validate } from './validate';

const PREFIX = 'AmazonEC2ContainerServiceV20141113.';
const INVALID = 'InvalidParameterException';

const schemas = {
  ListTasks: z.object({
    cluster: z.string().optional(),
    containerInstance: z.string().optional(),
    desiredStatus: z.enum(['RUNNING', 'PENDING', 'STOPPED']).optional(),
    maxResults: z.number().int().min(1).max(100).optional(),
    nextToken: z.string().optional(),
    family: z.string().optional(),
    startedBy: z.string().optional(),
    launchType: z.string().optional(),
  }),
  DescribeTasks: z.object({ cluster: z.string().optional(), tasks: z.array(z.string()), include: z.array(z.string()).optional() }),
  ListContainerInstances: z.object({
    cluster: z.string().optional(),
    status: z.enum(['ACTIVE', 'DRAINING', 'REGISTERING', 'DEREGISTERING', 'REGISTRATION_FAILED']).optional(),
    maxResults: z.number().int().min(1).max(100).optional(),
    nextToken: z.string().optional(),
    filter: z.string().optional(),
  }),
  ListClusters: z.object({ maxResults: z.number().int().min(1).max(100).optional(), nextToken: z.string().optional() }),
  DescribeClusters: z.object({ clusters: z.array(z.string()).max(100).optional(), include: z.array(z.string()).optional() }),
  DescribeContainerInstances: z.object({ cluster: z.string().optional(), containerInstances: z.array(z.string()), include: z.array(z.string()).optional() }),
};

function findCluster(model: SimModel, nameOrArn: string | undefined): SimCluster {
  const wanted = nameOrArn ?? 'default';
  for (const c of model.clusters.values()) if (c.arn === wanted || c.name === wanted) return c;
  throw new ApiError(400, 'ClusterNotFoundException', 'Cluster not found.');
}

function page<T>(items: T[], maxResults: number | undefined, nextToken: string | undefined): { page: T[]; nextToken?: string } {
  const start = parseOffsetToken(nextToken, INVALID);
  const size = maxResults ?? 100;
  const slice = items.slice(start, start + size);
  return start + size < items.length ? { page: slice, nextToken: offsetToken(start + size) } : { page: slice };
}

function byIdOrArn<T extends { arn: string }>(map: Map<string, T>, idOrArn: string): T | undefined {
  const direct = map.get(idOrArn);
  if (direct) return direct;
  for (const v of map.values()) if (v.arn.endsWith(`/${idOrArn}`)) return v;
  return undefined;
}

function taskView(model: SimModel, t: SimTask): OnTheWire<Task> {
  const job = t.job;
  const spec = job.spec;
  const ci = t.containerInstance;
  const out: OnTheWire<Task> = {
    taskArn: t.arn,
    clusterArn: t.cluster.arn,
    taskDefinitionArn: `arn:aws:ecs:${model.region}:123456789012:task-definition/${spec.definitionName}:${spec.revision}`,
    lastStatus: t.lastStatus,
    desiredStatus: t.desiredStatus,
    launchType: ci ? 'EC2' : 'FARGATE',
    cpu: String(Math.round(t.vcpus * 1024)),
    memory: String(t.memory),
    group: `family:${spec.definitionName}`,
    startedBy: job.id,
    createdAt: epochSeconds(t.createdAt),
    version: t.lastStatus === 'STOPPED' ? 3 : t.lastStatus === 'RUNNING' ? 2 : 1,
    containers: [
      {
        containerArn: `arn:aws:ecs:${model.region}:123456789012:container/${t.cluster.name}/${t.id}/${t.id.slice(0, 8)}`,
        taskArn: t.arn,
        name: 'default',
        image: spec.image,
        lastStatus: t.lastStatus,
        ...(t.exitCode !== undefined ? { exitCode: t.exitCode } : {}),
        ...(ci ? {} : { networkInterfaces: [{ attachmentId: t.id.slice(0, 8), privateIpv4Address: '10.1.0.10' }] }),
      },
    ],
  };
  if (ci) {
    out.containerInstanceArn = ci.arn;
  }
  if (t.startedAt !== undefined) out.startedAt = epochSeconds(t.startedAt);
  if (t.stoppedAt !== undefined) {
    out.stoppedAt = epochSeconds(t.stoppedAt);
    out.stoppedReason = t.stoppedReason;
    out.stopCode = 'EssentialContainerExited';
  }
  return out;
}

function containerInstanceView(ci: SimContainerInstance): OnTheWire<ContainerInstance> {
  const inst = ci.instance;
  let pending = 0;
  let running = 0;
  for (const t of ci.tasks) t.lastStatus === 'RUNNING' ? running++ : pending++;
  return {
    containerInstanceArn: ci.arn,
    ec2InstanceId: inst.id,
    version: 1,
    versionInfo: { agentVersion: '1.82.0', agentHash: 'a1b2c3d', dockerVersion: 'DockerVersion: 20.10.25' },
    remainingResources: [
      { name: 'CPU', type: 'INTEGER', integerValue: (inst.vcpus - ci.usedVcpus) * 1024 },
      { name: 'MEMORY', type: 'INTEGER', integerValue: inst.memory - ci.usedMemory },
    ],
    registeredResources: [
      { name: 'CPU', type: 'INTEGER', integerValue: inst.vcpus * 1024 },
      { name: 'MEMORY', type: 'INTEGER', integerValue: inst.memory },
    ],
    status: ci.status,
    agentConnected: ci.status === 'ACTIVE',
    runningTasksCount: running,
    pendingTasksCount: pending,
    attributes: [
      { name: 'ecs.instance-type', value: inst.type },
      { name: 'ecs.availability-zone', value: inst.availabilityZone },
      { name: 'ecs.ami-id', value: inst.ami },
      { name: 'ecs.os-type', value: 'linux' },
    ],
    registeredAt: epochSeconds(ci.registeredAt),
    attachments: [],
    tags: [],
  };
}

function clusterView(c: SimCluster): Cluster {
  let running = 0;
  let pending = 0;
  for (const t of c.tasks.values()) {
    if (t.lastStatus === 'RUNNING') running++;
    else if (t.lastStatus !== 'STOPPED') pending++;
  }
  return {
    clusterArn: c.arn,
    clusterName: c.name,
    status: 'ACTIVE',
    registeredContainerInstancesCount: [...c.containerInstances.values()].filter((ci) => ci.status !== 'INACTIVE').length,
    runningTasksCount: running,
    pendingTasksCount: pending,
    activeServicesCount: 0,
    statistics: [],
    tags: [],
    settings: [],
    capacityProviders: [],
    defaultCapacityProviderStrategy: [],
  };
}

function handleOperation(op: string, body: Record<string, unknown>, model: SimModel): unknown {
  switch (op) {
    case 'ListTasks': {
      const input = validate(schemas.ListTasks, body, INVALID);
      const cluster = findCluster(model, input.cluster);
      const desired = input.desiredStatus === 'STOPPED' ? 'STOPPED' : 'RUNNING';
      let ci: SimContainerInstance | undefined;
      if (input.containerInstance) {
        ci = byIdOrArn(cluster.containerInstances, input.containerInstance);
        if (!ci) throw new ApiError(400, INVALID, 'Container instance not found.');
      }
      const arns = [...cluster.tasks.values()]
        .filter((t) => t.desiredStatus === desired && (!ci || t.containerInstance === ci) && (!input.startedBy || t.job.id === input.startedBy))
        .map((t) => t.arn);
      const { page: taskArns, nextToken } = page(arns, input.maxResults, input.nextToken);
      return { taskArns, ...(nextToken ? { nextToken } : {}) };
    }
    case 'DescribeTasks': {
      const input = validate(schemas.DescribeTasks, body, INVALID);
      if (input.tasks.length > 100) throw new ApiError(400, INVALID, 'Tasks cannot be longer than 100 elements');
      const cluster = findCluster(model, input.cluster);
      const tasks: OnTheWire<Task>[] = [];
      const failures: Failure[] = [];
      for (const id of input.tasks) {
        const t = byIdOrArn(cluster.tasks, id);
        if (t) tasks.push(taskView(model, t));
        else failures.push({ arn: id.startsWith('arn:') ? id : `arn:aws:ecs:${model.region}:123456789012:task/${cluster.name}/${id}`, reason: 'MISSING' });
      }
      return { tasks, failures };
    }
    case 'ListContainerInstances': {
      const input = validate(schemas.ListContainerInstances, body, INVALID);
      const cluster = findCluster(model, input.cluster);
      const arns = [...cluster.containerInstances.values()]
        .filter((c) => (input.status ? c.status === input.status : c.status !== 'INACTIVE'))
        .map((c) => c.arn);
      const { page: containerInstanceArns, nextToken } = page(arns, input.maxResults, input.nextToken);
      return { containerInstanceArns, ...(nextToken ? { nextToken } : {}) };
    }
    case 'DescribeContainerInstances': {
      const input = validate(schemas.DescribeContainerInstances, body, INVALID);
      if (input.containerInstances.length > 100) throw new ApiError(400, INVALID, 'instanceIds can have at most 100 items.');
      const cluster = findCluster(model, input.cluster);
      const containerInstances: OnTheWire<ContainerInstance>[] = [];
      const failures: Failure[] = [];
      for (const id of input.containerInstances) {
        const c = byIdOrArn(cluster.containerInstances, id);
        if (c) containerInstances.push(containerInstanceView(c));
        else failures.push({ arn: id, reason: 'MISSING' });
      }
      return { containerInstances, failures };
    }
    case 'ListClusters': {
      const input = validate(schemas.ListClusters, body, INVALID);
      const { page: clusterArns, nextToken } = page([...model.clusters.values()].map((c) => c.arn), input.maxResults, input.nextToken);
      return { clusterArns, ...(nextToken ? { nextToken } : {}) };
    }
    case 'DescribeClusters': {
      const input = validate(schemas.DescribeClusters, body, INVALID);
      const clusters: Cluster[] = [];
      const failures: Failure[] = [];
      for (const id of input.clusters ?? ['default']) {
        const c = [...model.clusters.values()].find((x) => x.arn === id || x.name === id);
        if (c) clusters.push(clusterView(c));
        else failures.push({ arn: id, reason: 'MISSING' });
      }
      return { clusters, failures };
    }
    default:
      throw new ApiError(400, 'UnknownOperationException', `Unknown operation ${op}`);
  }
}

export const ecsProtocol: Protocol = {
  service: 'ECS',
  operation: (req) => targetOperation(req, PREFIX),
  handle(op, req, model) {
    const body = parseJsonBody(req, 'SerializationException');
    return jsonResponse(200, handleOperation(op, body, model), AMZ_JSON);
  },
  errorResponse: (err) => jsonTargetError(err.status, err.code, err.message),
  fault: (kind) => (kind === 'throttle' ? new ApiError(400, 'ThrottlingException', 'Rate exceeded') : new ApiError(500, 'ServerException', 'Service unavailable (simulated)')),
};
