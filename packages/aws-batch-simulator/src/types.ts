/** Public shapes of the AWS simulator. */
import type { AwsJobStatus } from './statuses';
import type { CallRecord, FaultCounts } from './faults';
import type { SimModel } from './model';

export type ScenarioName = 'empty' | 'demo' | 'bulkLoad';

export interface SimulatorOptions {
  /** 0 = a free port. Default 4566. */
  port?: number;
  host?: string;
  seed?: number;
  scenario?: ScenarioName;
  clock?: 'real' | 'manual';
  /** Simulated milliseconds per real millisecond (real clock only). */
  speed?: number;
  /** How long AWS keeps finished jobs (simulated seconds). Default 24 h. */
  retentionSeconds?: number;
  region?: string;
  faults?: Partial<FaultSettings>;
  /** Size of the `bulkLoad` scenario (default 1,000,000 finished + 1,000 active). */
  bulk?: { finished?: number; active?: number };
  /**
   * Route every job state change to this SQS queue, as an EventBridge rule
   * with an SQS target would ("Batch Job State Change" events). The queue is
   * created (with defaults) when it does not exist yet.
   */
  eventsQueue?: string;
  /** Called when the real clock's timer fails to advance the model (a bug in it); the server keeps serving. Default: stderr. */
  onModelError?: (err: unknown) => void;
}

export interface FaultSettings {
  /** Share (0..1) of calls answered with the service's throttling error. */
  throttleRate: number;
  /** Share (0..1) of calls answered with a 500. */
  errorRate: number;
  /** Delay added to every (selected) call. */
  delayMs: number;
  /** Share (0..1) of messages entering an SQS queue that are lost (accepted, never stored). */
  lossRate: number;
  /** Share (0..1) of such messages stored twice (at-least-once delivery). */
  duplicateRate: number;
  /** Share (0..1) of such messages held back up to 2 s, so later ones overtake them. */
  reorderRate: number;
  /** Limit faults to these keys ("Batch.ListJobs", or "Batch.*" for a whole service); all operations when absent/empty. */
  operations?: string[];
}

export interface SimulatorHandle {
  endpoint: string;
  port: number;
  model: SimModel;
  faults: { set(f: Partial<FaultSettings>): void; get(): FaultSettings; clear(): void };
  counters: {
    /** Calls per operation ("Batch.ListJobs"), faulted ones included. */
    get(): Record<string, number>;
    /** Faults given per operation: how many calls were throttled or failed. */
    faults(): FaultCounts;
    /** The latest answered calls with their times and fault, oldest first (bounded). */
    calls(): CallRecord[];
    /** Clears counts, fault counts and the call log. */
    reset(): void;
  };
  /** The job state change rule: which SQS queue (if any) gets an event for every job status change. */
  events: { route(queue: string | null): void; queue(): string | null };
  stop(): Promise<void>;
}

export interface ResourceRequirement {
  type: 'VCPU' | 'MEMORY' | 'GPU';
  value: string;
}

export interface JobPlan {
  outcome?: 'SUCCEEDED' | 'FAILED';
  exitCode?: number;
  reason?: string;
  runSeconds?: number;
  logLines?: string[];
  /** Simulator extension: a multi-node job's lines per node (index = node); node 0 falls back to `logLines`. */
  nodeLogLines?: string[][];
  /** Simulator extension: how long STARTING lasts (default 5 s); long values make a job stuck in STARTING. */
  startingSeconds?: number;
  /** Simulator extension: the first N attempts fail, later ones follow `outcome`. */
  failAttempts?: number;
  /** Simulator extension: array children with these indexes fail. */
  failChildren?: number[];
}

export interface SimJobInput {
  jobName: string;
  jobQueue: string;
  jobDefinition?: string;
  image?: string;
  command?: string[];
  vcpus?: number;
  memory?: number;
  resourceRequirements?: ResourceRequirement[];
  arraySize?: number;
  environment?: { name: string; value: string }[];
  multiNode?: boolean;
  /** Nodes of a multi-node job (default 2). Simulator extension. */
  numNodes?: number;
  fargate?: boolean;
  retryAttempts?: number;
  /** Job ids this job waits for (SubmitJob dependsOn); it stays PENDING until they succeed, fails if one fails. */
  dependsOn?: string[];
  /** Simulator extension: Batch's own attempt timeout (timeout.attemptDurationSeconds, ≥ 60). */
  timeoutSeconds?: number;
  plan?: JobPlan;
}

export interface CreateComputeEnvironmentInput {
  name: string;
  type?: 'MANAGED' | 'UNMANAGED';
  state?: 'ENABLED' | 'DISABLED';
  minvCpus?: number;
  maxvCpus?: number;
  desiredvCpus?: number;
  fargate?: boolean;
  /** Instances running from the start. */
  instances?: number;
  /** vCPUs of each instance launched (default 4; bigger jobs get bigger instances). */
  instanceVcpus?: number;
}

export interface CreateJobQueueInput {
  name: string;
  computeEnvironments: string[];
  priority?: number;
  state?: 'ENABLED' | 'DISABLED';
}

export interface BulkLoadInput {
  queue: string;
  finished: number;
  active: number;
}

export type StatusCounts = Record<AwsJobStatus, number>;
