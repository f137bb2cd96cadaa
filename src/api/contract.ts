/**
 * The HTTP API's wire types: what the server sends and accepts, in one module
 * that the frontend imports too (frontend/src/lib/api.ts), so the two cannot
 * drift apart silently. Field names are the Go original's where it had them.
 * Only types and constants: nothing here loads server code.
 */
import type { AwsJobStatus, DisplayStatus, JobStatus } from '../domain/jobStatus';

export { JOB_STATUSES, type AwsJobStatus, type JobStatus } from '../domain/jobStatus';
/** How a job's status reads to a user (TERMINATED, out of memory): one rule for the API's fields and the UI. */
export { DISPLAY_STATUSES, displayStatusOf, statusNoteOf, type DisplayStatus } from '../domain/jobStatus';

/**
 * An array parent's child counts, in the Go original's shape (lower-case
 * keys, every status present): what its databases hold and its clients read.
 */
export interface StatusSummary {
  starting: number;
  failed: number;
  running: number;
  succeeded: number;
  runnable: number;
  submitted: number;
  pending: number;
}

/**
 * Array job properties as stored in jobs.array_properties (jsonb) and shown
 * by the API. A parent: `{size, status_summary}`, the Go original's shape. A
 * child: `{index}` in the database (the original never stored children).
 */
export interface ArrayProperties {
  size?: number;
  index?: number;
  status_summary?: StatusSummary;
}

/** A job: GET /api/v1/jobs (a list), /api/v1/jobs/:id, /api/v1/jobs/:id/children, the status WebSocket. */
export interface JobJson {
  id: string;
  name: string;
  status: JobStatus;
  desc: string;
  last_updated: string;
  job_queue: string;
  image: string;
  created_at: string;
  stopped_at: string | null;
  vcpus: number;
  memory: number;
  timeout: number;
  command_line: string;
  status_reason: string | null;
  run_start_time: string | null;
  exitcode: number | null;
  log_stream_name: string | null;
  termination_requested: boolean;
  task_arn: string | null;
  instance_id: string | null;
  public_ip: string | null;
  private_ip: string | null;
  array_properties?: ArrayProperties | null;
  // Additions over the Go original.
  /** The status as users read it: TERMINATED for killed jobs (domain/jobStatus.ts). */
  display_status: DisplayStatus;
  /** Why, when not obvious: "out of memory" for an OOM kill. */
  status_note: string | null;
  vcpus_exact: number | null;
  array_parent_id: string | null;
  array_index: number | null;
  attempts: number;
  platform: string | null;
  job_type: string;
  log_group_name: string | null;
}

/** GET /api/v1/jobs/:id/aws: what only AWS Batch knows about a job (attempts, dependencies, nodes). */
export interface AttemptInfo {
  container_instance_arn: string | null;
  task_arn: string | null;
  exit_code: number | null;
  reason: string | null;
  log_stream_name: string | null;
  started_at: string | null;
  stopped_at: string | null;
}

export interface NodeInfo {
  id: string;
  index: number;
  status: string | null;
  exit_code: number | null;
  reason: string | null;
  log_stream_name: string | null;
}

export interface JobAwsDetail {
  found: boolean;
  region: string;
  attempts: AttemptInfo[];
  /** What AWS says the job waits on, with the mirror's name and status of each where it has them. */
  depends_on: DependencyJson[];
  /** Multi-node parallel jobs only: its nodes, main node first. */
  nodes: { num_nodes: number; main_node: number; list: NodeInfo[] } | null;
}

/**
 * One end of a dependency (AWS Batch `dependsOn`): the other job, and its name
 * and status as the mirror has them (null when the mirror does not hold it:
 * a queue not activated, or cleaned away).
 */
export interface DependencyJson {
  job_id: string;
  /** AWS's dependency type (N_TO_N, SEQUENTIAL) when one was given. */
  type: string | null;
  name: string | null;
  status: JobStatus | null;
  display_status: DisplayStatus | null;
}

/** GET /api/v1/jobs/:id/dependencies: both directions, from the mirror. */
export interface JobDependenciesJson {
  /** The jobs this one waits on. */
  depends_on: DependencyJson[];
  /** Jobs that wait on this one: the first WAITED_ON_BY_LIMIT by creation. */
  waited_on_by: DependencyJson[];
  /** How many jobs wait on this one in all. */
  waited_on_by_total: number;
}

/** At most this many jobs of `waited_on_by` are listed (a job can have thousands of dependents). */
export const WAITED_ON_BY_LIMIT = 100;

/** GET /api/v1/jobs/count: matching jobs, exact up to `exactUpTo`, the planner's estimate beyond. */
export interface JobCountJson {
  count: number;
  exact: boolean;
  exactUpTo: number;
}

/** GET /api/v1/jobs query: sortColumn, sortDirection, dateRange; pages of JOBS_PAGE_SIZE. */
export const SORT_COLUMNS = ['id', 'name', 'status', 'stopped_at', 'last_updated'] as const;
export type SortColumn = (typeof SORT_COLUMNS)[number];
export type SortDirection = 'ASC' | 'DESC';

export const DATE_RANGES = ['10m', '1h', '1d', '2d', '3d', '7d', '30d'] as const;
export type DateRange = (typeof DATE_RANGES)[number];

export const JOBS_PAGE_SIZE = 100;

/** POST /api/v1/jobs/kill: each id to "OK" or AWS's own error message. */
export type KillResponse = Record<string, string>;

/** GET /api/v1/job_queues/activated. */
export interface ActivatedQueue {
  job_queue: string;
  forced_scaling: boolean;
}

/** POST /api/v1/job_queues/:name/forced_scaling. */
export type ForcedScalingResponse = ActivatedQueue;

/** A row of GET /api/v1/job_queues/details. */
export interface QueueDetails {
  name: string;
  /** Mirrored by us (in activated_job_queues). */
  activated: boolean;
  forced_scaling: boolean;
  known_to_aws: boolean;
  /** AWS's state: ENABLED | DISABLED; null when AWS does not know the queue. */
  aws_state: string | null;
  /** AWS's status: VALID | INVALID | CREATING | UPDATING | DELETING | DELETED. */
  aws_status: string | null;
  /** Jobs in the mirror per active status (array parents left out). */
  job_counts: Partial<Record<AwsJobStatus, number>>;
  /** Jobs that failed in the last 24 hours (array parents left out). */
  failed_last_day: number;
}

/** A row of GET /api/v1/jobs/stats. */
export interface StatsRow {
  job_queue: string;
  status: string;
  /** Bucket start, unix seconds. */
  timestamp: number;
  vcpu_seconds: number;
  memory_seconds: number;
  instance_seconds: number;
  job_count: number;
  /** Bucket width, seconds. */
  interval: number;
}

/** Every error answer: a message, and details such as the parameter at fault. */
export interface ApiErrorBody {
  error: string;
  [detail: string]: unknown;
}
