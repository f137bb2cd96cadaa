/**
 * Shared types: the shapes passed between layers (AWS mapping -> pipeline
 * tasks -> store -> API). Job statuses live in domain/jobStatus.ts, the
 * API's wire types in api/contract.ts, Config in config/schema.ts.
 */

import type { ArrayProperties, DateRange, SortColumn, SortDirection } from './api/contract';
import type { DisplayStatus, JobStatus } from './domain/jobStatus';

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

/**
 * One entry of a job's `dependsOn` as DescribeJobs reports it (a row of
 * `job_dependencies` with the job's id).
 */
export interface JobDependencyLink {
  depends_on_job_id: string;
  /** N_TO_N | SEQUENTIAL | null when AWS gives none. */
  type: string | null;
}

/** A row of the `jobs` table. */
export interface JobRow extends MirroredJob {
  last_updated: Date;
  termination_requested: boolean;
  /** When a sync round last saw AWS report this job (drives GONE). */
  last_seen_at: Date | null;
  /** Written by an event hint (notify, a raw detail): the next sync round describes it. */
  needs_describe?: boolean;
  /** Written from an SQS EventBridge event's job description, not yet confirmed by ListJobs or DescribeJobs. */
  event_written?: boolean;
}

/** A job with the instance it ran on, as the API shows it. */
export interface JobWithInstance extends JobRow {
  instance_id: string | null;
  public_ip: string | null;
  private_ip: string | null;
}

/** Filters of GET /api/v1/jobs, already validated. */
export interface JobSearch {
  /** Tokens that must each appear in id, name, queue or image (case-insensitive). */
  tokens: string[];
  /** Words that must each appear in the status reason (`reason:` in the search box). */
  reasonWords?: string[];
  /** Words that must each appear in the command line (`cmd:` in the search box). */
  commandWords?: string[];
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

export type Role = 'viewer' | 'operator';

export interface AuthToken {
  token: string;
  role: Role;
  name?: string;
}
