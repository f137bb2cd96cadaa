/**
 * AWS Batch job description -> mirrored `jobs` row. The one place that knows
 * both shapes; every other module speaks MirroredJob.
 */
import type {
  ArrayPropertiesDetail,
  AttemptDetail,
  ContainerDetail,
  EksContainerDetail,
  JobDetail,
  KeyValuePair,
  LogConfiguration,
  ResourceRequirement,
  TaskContainerDetails,
} from '@aws-sdk/client-batch';
import { AWS_JOB_STATUSES, isAwsJobStatus, type AwsJobStatus } from '../domain/jobStatus';
import { arrayPropertiesFromAws } from '../domain/arrayProperties';
import type { JobDependencyLink, MirroredJob } from '../types';
import type { ArrayProperties } from '../api/contract';

/** A description we cannot mirror (no id, unknown status, ...): callers log it and skip the job. */
export class JobMappingError extends Error {
  constructor(
    message: string,
    readonly jobId: string | undefined,
  ) {
    super(message);
    this.name = 'JobMappingError';
  }
}

export const TIMEOUT_ENV_VAR = 'PYBATCH_TIMEOUT';

/** "arn:aws:batch:r:a:job-queue/name" -> "name"; a bare name stays as it is. */
export function queueNameFromArn(queue: string): string {
  const slash = queue.lastIndexOf('/');
  return queue.startsWith('arn:') && slash >= 0 ? queue.slice(slash + 1) : queue;
}

function toDate(ms: number | undefined | null): Date | null {
  return typeof ms === 'number' && Number.isFinite(ms) ? new Date(ms) : null;
}

/** The container-like part of a job, whichever kind of job it is. */
interface ContainerView {
  image?: string;
  command?: string[];
  vcpus?: number;
  memory?: number;
  resourceRequirements?: ResourceRequirement[];
  environment?: KeyValuePair[];
  logConfiguration?: LogConfiguration;
  exitCode?: number;
  reason?: string;
  logStreamName?: string;
  taskArn?: string;
}

function fromContainer(c: ContainerDetail): ContainerView {
  return c;
}

function fromTaskContainer(c: TaskContainerDetails, taskArn: string | undefined): ContainerView {
  return { ...c, taskArn };
}

/** Kubernetes quantities: "0.5", "500m" CPUs; "2048Mi", "2Gi", "1G", bytes. */
export function parseKubernetesCpu(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const m = /^([0-9.]+)(m?)$/.exec(value.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  if (!Number.isFinite(n)) return undefined;
  return m[2] === 'm' ? n / 1000 : n;
}

const MEMORY_UNITS_MIB: Record<string, number> = {
  '': 1 / (1024 * 1024),
  Ki: 1 / 1024,
  Mi: 1,
  Gi: 1024,
  Ti: 1024 * 1024,
  K: 1000 / (1024 * 1024),
  M: 1e6 / (1024 * 1024),
  G: 1e9 / (1024 * 1024),
  T: 1e12 / (1024 * 1024),
};

export function parseKubernetesMemoryMiB(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const m = /^([0-9.]+)(Ki|Mi|Gi|Ti|K|M|G|T|)$/.exec(value.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  return Number.isFinite(n) ? Math.ceil(n * MEMORY_UNITS_MIB[m[2]]) : undefined;
}

function fromEksContainer(c: EksContainerDetail): ContainerView {
  const res = { ...c.resources?.requests, ...c.resources?.limits };
  const cpu = parseKubernetesCpu(res.cpu);
  const memory = parseKubernetesMemoryMiB(res.memory);
  return {
    image: c.image,
    command: [...(c.command ?? []), ...(c.args ?? [])],
    resourceRequirements: [
      ...(cpu !== undefined ? [{ type: 'VCPU' as const, value: String(cpu) }] : []),
      ...(memory !== undefined ? [{ type: 'MEMORY' as const, value: String(memory) }] : []),
    ],
    environment: c.env?.map((e) => ({ name: e.name, value: e.value })),
    exitCode: c.exitCode,
    reason: c.reason,
  };
}

type JobType = 'container' | 'multinode' | 'eks' | 'ecs';

function jobTypeOf(d: JobDetail): JobType {
  if (d.container) return 'container';
  if (d.nodeProperties || d.nodeDetails) return 'multinode';
  if (d.eksProperties) return 'eks';
  if (d.ecsProperties) return 'ecs';
  return 'container';
}

/** Picks the container that describes the job best; undefined when the job has none at all. */
function containerOf(d: JobDetail): ContainerView | undefined {
  if (d.container) return fromContainer(d.container);
  const task = d.ecsProperties?.taskProperties?.[0];
  if (task?.containers?.length) {
    const essential = task.containers.find((c) => c.essential !== false) ?? task.containers[0];
    return fromTaskContainer(essential, task.taskArn);
  }
  const eks = d.eksProperties?.podProperties?.containers?.[0];
  if (eks) return fromEksContainer(eks);
  // Multi-node parent: the main node's range (or the first range) carries the container properties.
  const ranges = d.nodeProperties?.nodeRangeProperties ?? [];
  const range = ranges.find((r) => r.container) ?? ranges[0];
  if (range?.container) return range.container;
  const ecsTask = range?.ecsProperties?.taskProperties?.[0]?.containers?.[0];
  if (ecsTask) return fromTaskContainer(ecsTask, undefined);
  const eksRange = range?.eksProperties?.podProperties?.containers?.[0];
  if (eksRange) return fromEksContainer(eksRange);
  return undefined;
}

function requirement(reqs: ResourceRequirement[] | undefined, type: 'VCPU' | 'MEMORY'): number | undefined {
  const raw = reqs?.find((r) => r.type === type)?.value;
  if (raw === undefined) return undefined;
  const n = Number(raw);
  return Number.isFinite(n) ? n : undefined;
}

/** vCPUs: exact (fractional on Fargate) and whole (rounded up, the Go INTEGER column). */
function vcpusOf(c: ContainerView | undefined): { vcpus: number; vcpus_exact: number | null } {
  const exact = requirement(c?.resourceRequirements, 'VCPU') ?? c?.vcpus;
  if (exact === undefined || exact < 0) return { vcpus: 0, vcpus_exact: null };
  return { vcpus: Math.ceil(exact), vcpus_exact: exact };
}

function memoryOf(c: ContainerView | undefined): number {
  const mib = requirement(c?.resourceRequirements, 'MEMORY') ?? c?.memory;
  return mib !== undefined && mib >= 0 ? Math.ceil(mib) : 0;
}

/** PYBATCH_TIMEOUT in seconds; -1 when absent or not a non-negative integer. */
export function timeoutOf(env: KeyValuePair[] | undefined): number {
  const raw = env?.find((e) => e.name === TIMEOUT_ENV_VAR)?.value;
  if (raw === undefined || !/^\s*\d+\s*$/.test(raw)) return -1;
  const n = Number(raw);
  return Number.isSafeInteger(n) && n <= 2_147_483_647 ? n : -1;
}

function nonEmpty(s: string | undefined | null): string | null {
  return typeof s === 'string' && s.length > 0 ? s : null;
}

function lastOf<T>(items: T[] | undefined): T | undefined {
  return items && items.length > 0 ? items[items.length - 1] : undefined;
}

/** The last attempt's container (classic jobs) or its first ECS task container (ECS-properties jobs). */
function attemptContainer(a: AttemptDetail | undefined): { reason?: string; exitCode?: number; logStreamName?: string; taskArn?: string } {
  if (!a) return {};
  if (a.container) return a.container;
  const task = a.taskProperties?.[0];
  const c = task?.containers?.[0];
  return { reason: c?.reason, exitCode: c?.exitCode, logStreamName: c?.logStreamName, taskArn: task?.taskArn };
}

/** The Go original's shape: a parent's `{size, status_summary}` (every count), a child's `{index}`. */
export function arrayPropertiesOf(a: ArrayPropertiesDetail | undefined): ArrayProperties | null {
  return arrayPropertiesFromAws(a);
}

/** Array children are "<parent>:<index>". */
export function arrayParentOf(jobId: string, a: ArrayPropertiesDetail | undefined): { parent: string | null; index: number | null } {
  const colon = jobId.lastIndexOf(':');
  if (colon <= 0) return { parent: null, index: null };
  const suffix = jobId.slice(colon + 1);
  if (!/^\d+$/.test(suffix)) return { parent: null, index: null };
  const index = typeof a?.index === 'number' ? a.index : Number(suffix);
  return { parent: jobId.slice(0, colon), index };
}

function platformOf(d: JobDetail): string | null {
  const caps = d.platformCapabilities ?? [];
  if (caps.includes('FARGATE')) return 'FARGATE';
  if (caps.includes('EC2')) return 'EC2';
  return null;
}

/** Status reason: the last attempt's container reason wins when present (as the Go original). */
function statusReasonOf(d: JobDetail, c: ContainerView | undefined): string | null {
  return nonEmpty(attemptContainer(lastOf(d.attempts)).reason) ?? nonEmpty(d.statusReason) ?? nonEmpty(c?.reason);
}

/** jobs.job_id and job_dependencies' columns are VARCHAR(64). */
const MAX_JOB_ID_LENGTH = 64;

/**
 * The jobs a description says it waits on (`dependsOn`), each once (the last
 * entry wins), entries without a job id or with one longer than a job id
 * column holds left out. Not a MirroredJob field: it is stored in its own
 * table (job_dependencies), and only describes know it (events do not carry it).
 */
export function dependenciesOf(detail: JobDetail): JobDependencyLink[] {
  const byId = new Map<string, JobDependencyLink>();
  for (const d of detail.dependsOn ?? []) {
    if (typeof d?.jobId !== 'string' || d.jobId.length === 0 || d.jobId.length > MAX_JOB_ID_LENGTH) continue;
    byId.delete(d.jobId);
    byId.set(d.jobId, { depends_on_job_id: d.jobId, type: typeof d.type === 'string' && d.type.length > 0 ? d.type : null });
  }
  return [...byId.values()];
}

export function mapJobDetail(detail: JobDetail): MirroredJob {
  const jobId = detail.jobId;
  if (!jobId) throw new JobMappingError('job description without jobId', undefined);
  if (!isAwsJobStatus(detail.status)) {
    throw new JobMappingError(`job ${jobId}: unknown status ${JSON.stringify(detail.status)}`, jobId);
  }
  const createdAt = toDate(detail.createdAt);
  if (!createdAt) throw new JobMappingError(`job ${jobId}: no createdAt`, jobId);
  // Stored as it comes (the ARN); an event is untrusted input, so its type is checked here.
  if (detail.jobDefinition != null && typeof detail.jobDefinition !== 'string') {
    throw new JobMappingError(`job ${jobId}: jobDefinition must be text`, jobId);
  }

  const container = containerOf(detail);
  const attempt = attemptContainer(lastOf(detail.attempts));
  const lastAttempt = lastOf(detail.attempts);
  const { parent, index } = arrayParentOf(jobId, detail.arrayProperties);
  const exitCode = container?.exitCode ?? attempt.exitCode;

  return {
    job_id: jobId,
    job_name: detail.jobName ?? '',
    // The ARN, as the Go original stored it (its clients read `desc` as one); the UI shortens it.
    job_definition: detail.jobDefinition ?? '',
    job_queue: queueNameFromArn(detail.jobQueue ?? ''),
    image: container?.image ?? '',
    status: detail.status,
    created_at: createdAt,
    stopped_at: toDate(detail.stoppedAt),
    ...vcpusOf(container),
    memory: memoryOf(container),
    timeout: timeoutOf(container?.environment),
    command_line: JSON.stringify(container?.command ?? []),
    status_reason: statusReasonOf(detail, container),
    run_started_at: toDate(detail.startedAt) ?? toDate(lastAttempt?.startedAt),
    exitcode: typeof exitCode === 'number' ? exitCode : null,
    log_stream_name: nonEmpty(attempt.logStreamName) ?? nonEmpty(container?.logStreamName),
    log_group_name: nonEmpty(container?.logConfiguration?.options?.['awslogs-group']),
    task_arn: nonEmpty(attempt.taskArn) ?? nonEmpty(container?.taskArn),
    array_properties: arrayPropertiesOf(detail.arrayProperties),
    array_parent_id: parent,
    array_index: index,
    attempts: detail.attempts?.length ?? 0,
    platform: platformOf(detail),
    job_type: jobTypeOf(detail),
  };
}
