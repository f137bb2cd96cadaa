/**
 * Batch wire shapes built from the model's records. Typed with the SDK's own
 * output types so member names are checked by the compiler.
 */
import type {
  AttemptDetail,
  ComputeEnvironmentDetail,
  ContainerDetail,
  JobDetail,
  JobQueueDetail,
  JobSummary,
  KeyValuePair,
  ResourceRequirement,
} from '@aws-sdk/client-batch';
import { AWS_JOB_STATUSES } from './statuses';
import type { AttemptRecord, SimComputeEnvironment, SimJob, SimQueue } from './entities';
import { ACCOUNT_ID, type SimModel, jobArn } from './model';

function isFinished(job: SimJob): boolean {
  return job.status === 'SUCCEEDED' || job.status === 'FAILED';
}

function nodeId(job: SimJob, node: number): string {
  return node >= 0 ? `${job.id}#${node}` : job.id;
}

export function jobSummary(model: SimModel, job: SimJob, node = -1): JobSummary {
  const s: JobSummary = {
    jobArn: jobArn(model, nodeId(job, node)),
    jobId: nodeId(job, node),
    jobName: job.name,
    createdAt: job.createdAt,
    status: job.status,
    jobDefinition: job.spec.definitionArn,
  };
  if (job.statusReason !== undefined) s.statusReason = job.statusReason;
  if (job.startedAt !== undefined) s.startedAt = job.startedAt;
  if (job.stoppedAt !== undefined) s.stoppedAt = job.stoppedAt;
  const singleContainer = job.spec.numNodes === 0 || node >= 0;
  if (singleContainer && !job.isArrayParent && (job.exitCode !== undefined || job.containerReason !== undefined)) {
    s.container = {};
    if (job.exitCode !== undefined) s.container.exitCode = job.exitCode;
    if (job.containerReason !== undefined) s.container.reason = job.containerReason;
  }
  if (job.isArrayParent) s.arrayProperties = { size: job.arraySize };
  else if (job.parent) s.arrayProperties = { index: job.arrayIndex };
  if (job.spec.numNodes > 0) {
    s.nodeProperties = node >= 0 ? { isMainNode: node === 0, numNodes: job.spec.numNodes, nodeIndex: node } : { isMainNode: true, numNodes: job.spec.numNodes };
  }
  return s;
}

function resourceRequirements(job: SimJob): ResourceRequirement[] {
  return [
    { type: 'VCPU', value: String(job.spec.vcpus) },
    { type: 'MEMORY', value: String(job.spec.memory) },
  ];
}

/** The stream a node writes (the job's own for node 0 and for single-node jobs). */
function streamOf(job: SimJob, node: number, attempt?: AttemptRecord): string | undefined {
  const perNode = attempt ? attempt.nodeLogStreamNames : job.nodeLogStreamNames;
  return node > 0 ? perNode?.[node] : attempt ? attempt.logStreamName : job.logStreamName;
}

function attempts(model: SimModel, job: SimJob, node: number): AttemptDetail[] {
  if (job.attempts) {
    return job.attempts.map((a) => ({
      container: {
        ...(a.containerInstanceArn ? { containerInstanceArn: a.containerInstanceArn } : {}),
        ...(a.taskArn ? { taskArn: a.taskArn } : {}),
        ...(a.exitCode !== undefined ? { exitCode: a.exitCode } : {}),
        ...(a.reason !== undefined ? { reason: a.reason } : {}),
        ...(streamOf(job, node, a) ? { logStreamName: streamOf(job, node, a) } : {}),
        networkInterfaces: [],
      },
      ...(a.startedAt !== undefined ? { startedAt: a.startedAt } : {}),
      stoppedAt: a.stoppedAt,
      ...(a.statusReason !== undefined ? { statusReason: a.statusReason } : {}),
    }));
  }
  if (!isFinished(job) || job.tries === 0) return [];
  // Bulk-loaded job: one attempt, told by the job's own fields.
  const taskId = job.id.replace(/-/g, '');
  return [
    {
      container: {
        taskArn: `arn:aws:ecs:${model.region}:${ACCOUNT_ID}:task/${job.queue.computeEnvironments[0]?.cluster.name ?? 'cluster'}/${taskId}`,
        ...(job.exitCode !== undefined ? { exitCode: job.exitCode } : {}),
        ...(job.logStreamName ? { logStreamName: job.logStreamName } : {}),
        networkInterfaces: [],
      },
      startedAt: job.startedAt,
      stoppedAt: job.stoppedAt,
      statusReason: job.statusReason,
    },
  ];
}

function containerDetail(job: SimJob, withRuntime: boolean, node = -1): ContainerDetail {
  const spec = job.spec;
  const c: ContainerDetail = {
    image: spec.image,
    command: spec.command,
    jobRoleArn: `arn:aws:iam::${ACCOUNT_ID}:role/batch-job-role`,
    volumes: [],
    environment: spec.environment as KeyValuePair[],
    mountPoints: [],
    ulimits: [],
    secrets: [],
    networkInterfaces: [],
    logConfiguration: { logDriver: 'awslogs', options: {}, secretOptions: [] },
  };
  if (spec.useResourceRequirements) c.resourceRequirements = resourceRequirements(job);
  else {
    c.vcpus = spec.vcpus;
    c.memory = spec.memory;
  }
  if (spec.fargate) {
    c.executionRoleArn = `arn:aws:iam::${ACCOUNT_ID}:role/ecsTaskExecutionRole`;
    c.networkConfiguration = { assignPublicIp: 'DISABLED' };
    c.fargatePlatformConfiguration = { platformVersion: 'LATEST' };
  }
  const stream = streamOf(job, node);
  if (!withRuntime) {
    // A node other than the main one: only its own stream (its task is not modelled).
    if (node > 0 && stream && (job.task || isFinished(job))) c.logStreamName = stream;
    return c;
  }
  const task = job.task;
  const last = job.attempts?.[job.attempts.length - 1];
  const taskArn = task?.arn ?? (isFinished(job) ? last?.taskArn : undefined);
  const ciArn = task ? task.containerInstance?.arn : isFinished(job) ? last?.containerInstanceArn : undefined;
  if (taskArn) c.taskArn = taskArn;
  if (ciArn) c.containerInstanceArn = ciArn;
  if (task?.containerInstance) c.instanceType = task.containerInstance.instance.type;
  if (stream && (task || isFinished(job))) c.logStreamName = stream;
  if (isFinished(job) || job.attempts) {
    if (job.exitCode !== undefined) c.exitCode = job.exitCode;
    if (job.containerReason !== undefined) c.reason = job.containerReason;
  }
  return c;
}

export function jobDetail(model: SimModel, job: SimJob, node = -1): JobDetail {
  const spec = job.spec;
  const d: JobDetail = {
    jobArn: jobArn(model, nodeId(job, node)),
    jobName: job.name,
    jobId: nodeId(job, node),
    jobQueue: job.queue.arn,
    status: job.status,
    attempts: job.isArrayParent || (spec.numNodes > 0 && node < 0) ? [] : attempts(model, job, node),
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    retryStrategy: { attempts: spec.retryAttempts, evaluateOnExit: [] },
    dependsOn: (job.dependsOn ?? []).map((d) => ({ jobId: d.id })),
    jobDefinition: spec.definitionArn,
    parameters: {},
    tags: {},
    propagateTags: false,
    platformCapabilities: [spec.fargate ? 'FARGATE' : 'EC2'],
    eksAttempts: [],
  };
  if (job.statusReason !== undefined) d.statusReason = job.statusReason;
  if (spec.timeoutSeconds > 0) d.timeout = { attemptDurationSeconds: spec.timeoutSeconds };
  if (job.stoppedAt !== undefined) d.stoppedAt = job.stoppedAt;
  if (spec.numNodes > 0) {
    const nodeContainer = { image: spec.image, command: spec.command, vcpus: spec.vcpus, memory: spec.memory, environment: spec.environment as KeyValuePair[] };
    d.nodeProperties = { numNodes: spec.numNodes, mainNode: 0, nodeRangeProperties: [{ targetNodes: '0:', container: nodeContainer }] };
    if (node >= 0) {
      d.nodeDetails = { nodeIndex: node, isMainNode: node === 0 };
      d.container = containerDetail(job, node === 0, node);
    }
  } else {
    d.container = containerDetail(job, !job.isArrayParent);
  }
  if (job.isArrayParent && job.statusSummary) {
    const summary: Record<string, number> = {};
    AWS_JOB_STATUSES.forEach((s, i) => (summary[s] = job.statusSummary?.[i] ?? 0));
    d.arrayProperties = { statusSummary: summary, size: job.arraySize };
  } else if (job.parent) {
    d.arrayProperties = { index: job.arrayIndex };
  }
  return d;
}

export function jobQueueDetail(q: SimQueue): JobQueueDetail {
  return {
    jobQueueName: q.name,
    jobQueueArn: q.arn,
    state: q.state,
    status: 'VALID',
    statusReason: 'JobQueue Healthy',
    priority: q.priority,
    computeEnvironmentOrder: q.computeEnvironments.map((ce, i) => ({ order: i + 1, computeEnvironment: ce.arn })),
    tags: {},
    jobStateTimeLimitActions: [],
  };
}

export function computeEnvironmentDetail(ce: SimComputeEnvironment): ComputeEnvironmentDetail {
  const d: ComputeEnvironmentDetail = {
    computeEnvironmentName: ce.name,
    computeEnvironmentArn: ce.arn,
    ecsClusterArn: ce.cluster.arn,
    tags: {},
    type: ce.type,
    state: ce.state,
    status: 'VALID',
    statusReason: 'ComputeEnvironment Healthy',
    serviceRole: ce.serviceRole,
    uuid: ce.uuid,
    containerOrchestrationType: 'ECS',
  };
  if (ce.type === 'MANAGED') {
    d.computeResources = ce.fargate
      ? { type: 'FARGATE', maxvCpus: ce.maxvCpus, subnets: ['subnet-0a1b2c3d'], securityGroupIds: ['sg-0a1b2c3d'] }
      : {
          type: 'EC2',
          allocationStrategy: 'BEST_FIT_PROGRESSIVE',
          minvCpus: ce.minvCpus,
          maxvCpus: ce.maxvCpus,
          desiredvCpus: ce.desiredvCpus,
          instanceTypes: ['optimal'],
          subnets: ['subnet-0a1b2c3d'],
          securityGroupIds: ['sg-0a1b2c3d'],
          instanceRole: `arn:aws:iam::${ACCOUNT_ID}:instance-profile/ecsInstanceRole`,
          tags: {},
          ec2Configuration: [{ imageType: 'ECS_AL2' }],
        };
  }
  return d;
}
