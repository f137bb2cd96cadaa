/**
 * Shared types: the shapes passed between layers (AWS mapping -> pipeline
 * tasks -> store -> API -> UI). Job statuses live in domain/jobStatus.ts,
 * Config in config/schema.ts.
 */

import type { AwsJobStatus, DisplayStatus, JobStatus } from './domain/jobStatus';

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
 * child: `{index}` (the original never stored children).
 */
export interface ArrayProperties {
  size?: number;
  index?: number;
  status_summary?: StatusSummary;
}

/**
 * The fields of a job that are mirrored from AWS Batch. The pipeline's mapping
 * produces this; the store upserts it and rewrites a row only when one of these
 * fields differs from what is stored.
 */
export interface MirroredJob {
  job_id: string;
  job_name: string;
  job_definition: string;
  job_queue: string;
  image: string;
  status: JobStatus;
  created_at: Date;
  stopped_at: Date | null;
  /** Whole vCPUs, rounded up (the Go schema's INTEGER column). */
  vcpus: number;
  /** Exact vCPUs, fractional for Fargate (0.25, 0.5, ...). */
  vcpus_exact: number | null;
  /** MiB. */
  memory: number;
  /** Seconds from PYBATCH_TIMEOUT; -1 when none. */
  timeout: number;
  /** JSON array of strings, as text. */
  command_line: string;
  status_reason: string | null;
  run_started_at: Date | null;
  exitcode: number | null;
  log_stream_name: string | null;
  log_group_name: string | null;
  task_arn: string | null;
  array_properties: ArrayProperties | null;
  /** For array children: the parent's job id. */
  array_parent_id: string | null;
  array_index: number | null;
  /** Number of attempts AWS reports. */
  attempts: number;
  /** EC2 | FARGATE | null when unknown. */
  platform: string | null;
  /** container | multinode | eks | ecs. */
  job_type: string;
}

/** A row of the `jobs` table. */
export interface JobRow extends MirroredJob {
  last_updated: Date;
  termination_requested: boolean;
  /** When a sync round last saw AWS report this job (drives GONE). */
  last_seen_at: Date | null;
}

/** A job with the instance it ran on, as the API shows it. */
export interface JobWithInstance extends JobRow {
  instance_id: string | null;
  public_ip: string | null;
  private_ip: string | null;
}

/** Job JSON of the HTTP API; field names are the Go original's. */
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

export const SORT_COLUMNS = ['id', 'name', 'status', 'stopped_at', 'last_updated'] as const;
export type SortColumn = (typeof SORT_COLUMNS)[number];
export type SortDirection = 'ASC' | 'DESC';

export const DATE_RANGES = ['10m', '1h', '1d', '2d', '3d', '7d', '30d'] as const;
export type DateRange = (typeof DATE_RANGES)[number];

export const JOBS_PAGE_SIZE = 100;

/** Filters of GET /api/v1/jobs, already validated. */
export interface JobSearch {
  /** Tokens that must each appear in id, name, queue or image (case-insensitive). */
  tokens: string[];
  queues: string[];
  /** Stored statuses, and TERMINATED (FAILED jobs the domain's rule calls terminated). */
  statuses: DisplayStatus[];
  dateRange: DateRange;
  /** Array children too (by default only top-level jobs, as the Go original listed). */
  children?: boolean;
  sortColumn: SortColumn;
  sortDirection: SortDirection;
  page: number;
  /** Reference "now" for the date range (tests pin it). */
  now?: Date;
}

export interface ActivatedQueue {
  job_queue: string;
  forced_scaling: boolean;
}

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

export interface JobSummaryCounts {
  submitted: number;
  pending: number;
  runnable: number;
  starting: number;
  running: number;
}

export interface ComputeEnvironmentState {
  compute_environment: string;
  desired_vcpus: number | null;
  max_vcpus: number | null;
  min_vcpus: number | null;
  state: string | null;
  service_role: string | null;
}

export interface InstanceRow {
  instance_id: string;
  appeared_at: Date;
  disappeared_at: Date | null;
  launched_at: Date | null;
  ami: string;
  instance_type: string;
  compute_environment_arn: string;
  ecs_cluster_arn: string;
  availability_zone: string;
  spot_instance_request_id: string | null;
  private_ip_address: string | null;
  public_ip_address: string | null;
}

export interface TaskInstanceInfo {
  task_arn: string;
  instance_id: string;
  public_ip: string;
  private_ip: string;
}

export interface StatsQuery {
  start: Date;
  end: Date;
  queues: string[];
  statuses: JobStatus[];
}

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

export type Role = 'viewer' | 'operator';

export interface AuthToken {
  token: string;
  role: Role;
  name?: string;
}
