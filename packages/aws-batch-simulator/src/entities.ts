/**
 * The simulator's records. Jobs are plain classes with a fixed field set so V8
 * keeps them compact (a million of them must fit well under 2 GB); whatever
 * many jobs share (image, command, environment) lives once in a JobSpec.
 */
import type { AwsJobStatus } from './statuses';
import { ChunkedSortedList } from './sortedList';
import type { JobPlan } from './types';

export const STATUS_INDEX: Record<AwsJobStatus, number> = {
  SUBMITTED: 0,
  PENDING: 1,
  RUNNABLE: 2,
  STARTING: 3,
  RUNNING: 4,
  SUCCEEDED: 5,
  FAILED: 6,
};

export interface JobSpec {
  definitionName: string;
  revision: number;
  definitionArn: string;
  image: string;
  command: string[];
  /** Per node for multi-node jobs; fractional for Fargate. */
  vcpus: number;
  memory: number;
  /** Described through resourceRequirements (modern/Fargate) instead of container.vcpus/memory. */
  useResourceRequirements: boolean;
  fargate: boolean;
  /** 0 for single-node jobs. */
  numNodes: number;
  environment: { name: string; value: string }[];
  retryAttempts: number;
  /** Job definition timeout (attemptDurationSeconds); 0 = none. */
  timeoutSeconds: number;
}

export interface AttemptRecord {
  taskArn: string | undefined;
  containerInstanceArn: string | undefined;
  logStreamName: string | undefined;
  /** A multi-node job's stream per node (index = node; node 0 is `logStreamName`). */
  nodeLogStreamNames: string[] | undefined;
  exitCode: number | undefined;
  reason: string | undefined;
  startedAt: number | undefined;
  stoppedAt: number;
  statusReason: string | undefined;
}

/** Lines a running job still has to write to one of its log streams. */
export interface PendingLogStream {
  stream: string;
  lines: string[];
  /** Index of the next line to write (no shifting: logs can be long). */
  next: number;
  step: number;
  nextAt: number;
}

export class SimJob {
  status: AwsJobStatus = 'SUBMITTED';
  /** When the job entered its current status. */
  statusSince = 0;
  statusReason: string | undefined = undefined;
  startedAt: number | undefined = undefined;
  stoppedAt: number | undefined = undefined;
  exitCode: number | undefined = undefined;
  containerReason: string | undefined = undefined;
  /** Finished attempts; null for bulk-loaded jobs (one attempt is derived from the job's fields). */
  attempts: AttemptRecord[] | null = null;
  tries = 0;
  /** When the next automatic transition is due (NaN: none). */
  nextAt = NaN;
  task: SimTask | null = null;
  logStreamName: string | undefined = undefined;
  /** A multi-node job's log stream per node of the current try (index = node; node 0 is `logStreamName`). */
  nodeLogStreamNames: string[] | null = null;
  children: SimJob[] | null = null;
  /** Children per status, indexed by STATUS_INDEX (array parents only). */
  statusSummary: number[] | null = null;
  forgotten = false;
  /** Jobs this one waits for (dependsOn), and jobs waiting for this one. */
  dependsOn: SimJob[] | null = null;
  dependents: SimJob[] | null = null;
  unmetDependencies = 0;
  /** Log lines still to write while running: one entry per stream (a multi-node job has one per node). */
  pendingLog: PendingLogStream[] | null = null;

  constructor(
    readonly seq: number,
    readonly id: string,
    readonly name: string,
    readonly queue: SimQueue,
    readonly spec: JobSpec,
    readonly createdAt: number,
    readonly plan: JobPlan,
    readonly parent: SimJob | null,
    readonly arrayIndex: number,
    readonly arraySize: number,
  ) {}

  get isArrayParent(): boolean {
    return this.arraySize > 0 && this.parent === null;
  }

  get vcpusNeeded(): number {
    return this.spec.vcpus * Math.max(1, this.spec.numNodes);
  }
}

/** Newest-last order of the listing indexes: by creation time, then submission sequence. */
export function byCreation(a: SimJob, b: SimJob): number {
  return a.createdAt - b.createdAt || a.seq - b.seq;
}

export class SimQueue {
  /** Listing indexes of top-level jobs: one per status, and one over all statuses (filters). */
  readonly byStatus: ChunkedSortedList<SimJob>[] = Array.from({ length: 7 }, () => new ChunkedSortedList(byCreation));
  readonly all = new ChunkedSortedList<SimJob>(byCreation);
  /** RUNNABLE jobs (children included) waiting for capacity, oldest first. */
  readonly runnable = new Set<SimJob>();
  runnableVcpus = 0;

  constructor(
    readonly name: string,
    readonly arn: string,
    public priority: number,
    public state: 'ENABLED' | 'DISABLED',
    public computeEnvironments: SimComputeEnvironment[],
  ) {}
}

export class SimComputeEnvironment {
  requestedDesired: { vcpus: number; until: number } | null = null;
  /** vCPUs used by Fargate tasks (Fargate CEs have no instances). */
  fargateUsedVcpus = 0;
  readonly instances = new Set<SimInstance>();

  constructor(
    readonly name: string,
    readonly arn: string,
    readonly uuid: string,
    readonly type: 'MANAGED' | 'UNMANAGED',
    public state: 'ENABLED' | 'DISABLED',
    public minvCpus: number,
    public maxvCpus: number,
    public desiredvCpus: number,
    readonly fargate: boolean,
    readonly instanceVcpus: number,
    readonly cluster: SimCluster,
    public serviceRole: string,
  ) {}
}

export class SimCluster {
  readonly containerInstances = new Map<string, SimContainerInstance>();
  readonly tasks = new Map<string, SimTask>();

  constructor(
    readonly name: string,
    readonly arn: string,
  ) {}
}

export type InstanceState = 'pending' | 'running' | 'shutting-down' | 'terminated';

export class SimInstance {
  state: InstanceState = 'pending';
  /** When the pending/shutting-down state ends, or when a terminated instance is forgotten. */
  stateUntil = 0;
  containerInstance: SimContainerInstance | null = null;
  idleSince = 0;
  stateReason: string | undefined = undefined;

  constructor(
    readonly id: string,
    readonly type: string,
    readonly vcpus: number,
    readonly memory: number,
    readonly ami: string,
    readonly availabilityZone: string,
    readonly privateIp: string,
    readonly publicIp: string,
    readonly spotInstanceRequestId: string | undefined,
    readonly launchTime: number,
    readonly ce: SimComputeEnvironment,
  ) {}
}

export class SimContainerInstance {
  status: 'ACTIVE' | 'DRAINING' | 'INACTIVE' = 'ACTIVE';
  usedVcpus = 0;
  usedMemory = 0;
  readonly tasks = new Set<SimTask>();

  constructor(
    readonly arn: string,
    readonly instance: SimInstance,
    readonly cluster: SimCluster,
    readonly registeredAt: number,
  ) {}
}

export class SimTask {
  lastStatus: 'PROVISIONING' | 'PENDING' | 'RUNNING' | 'STOPPED' = 'PENDING';
  desiredStatus: 'RUNNING' | 'STOPPED' = 'RUNNING';
  startedAt: number | undefined = undefined;
  stoppedAt: number | undefined = undefined;
  exitCode: number | undefined = undefined;
  stoppedReason: string | undefined = undefined;

  constructor(
    readonly arn: string,
    readonly ce: SimComputeEnvironment,
    readonly containerInstance: SimContainerInstance | null,
    readonly job: SimJob,
    readonly createdAt: number,
    readonly vcpus: number,
    readonly memory: number,
  ) {}

  get id(): string {
    return this.arn.slice(this.arn.lastIndexOf('/') + 1);
  }

  get cluster(): SimCluster {
    return this.ce.cluster;
  }
}
