/**
 * Shared types: the one place that names the shapes passed between layers
 * (config -> AWS clients -> pipeline tasks -> store -> API -> UI).
 */

/** Statuses AWS Batch reports, in the order a job moves through them. */
export const AWS_JOB_STATUSES = [
  'SUBMITTED',
  'PENDING',
  'RUNNABLE',
  'STARTING',
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
] as const;
export type AwsJobStatus = (typeof AWS_JOB_STATUSES)[number];

/** GONE is ours: a job AWS stopped reporting before we saw it finish. */
export const JOB_STATUSES = [...AWS_JOB_STATUSES, 'GONE'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const TERMINAL_STATUSES: readonly JobStatus[] = ['SUCCEEDED', 'FAILED', 'GONE'];
/** Statuses counted as "active" by the scaling hack and the job summary log. */
export const ACTIVE_STATUSES: readonly AwsJobStatus[] = ['SUBMITTED', 'PENDING', 'RUNNABLE', 'STARTING', 'RUNNING'];

export function isTerminal(status: string): boolean {
  return (TERMINAL_STATUSES as readonly string[]).includes(status);
}

/** Array job properties as stored in jobs.array_properties (jsonb). */
export interface ArrayProperties {
  size?: number;
  index?: number;
  /** Child counts per status, e.g. { RUNNING: 3, SUCCEEDED: 7 }. */
  statusSummary?: Partial<Record<AwsJobStatus, number>>;
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
  statuses: JobStatus[];
  dateRange: DateRange;
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

/** The validated configuration. Read once at start-up and passed down. */
export interface Config {
  host: string;
  port: number;
  region: string;
  database_host: string;
  database_port: number;
  database_username: string;
  database_name: string;
  database_password?: string;
  /** PEM file path; when set, Postgres is reached over TLS with verify-full. */
  database_root_certificate?: string;
  password_bucket?: string;
  password_key?: string;
  frontend_assets: 'local' | 's3';
  frontend_assets_local_prefix?: string;
  frontend_assets_bucket?: string;
  frontend_assets_key?: string;
  sync_period: number;
  scale_period: number;
  clean_period: number;
  kill_stuck_jobs: boolean;
  use_auto_scaler: boolean;
  use_cleaner: boolean;
  use_datadog_tracing: boolean;
  redis_url: string;
  /** BullMQ key prefix; lets several deployments (or tests) share one Redis. */
  redis_prefix: string;
  aws_endpoint?: string;
  gone_after_seconds: number;
  stuck_starting_seconds: number;
  retention_days: number;
  worker_concurrency: number;
  /** Port of the /metrics and /healthz endpoint of worker and scheduler processes; 0 = none. */
  metrics_port: number;
  /** Max AWS calls per second per operation, across all workers. */
  aws_calls_per_second: number;
  /** none | tokens | proxy. */
  auth_mode: 'none' | 'tokens' | 'proxy';
  auth_tokens: AuthToken[];
  /** Header carrying the user name set by a trusted reverse proxy. */
  auth_proxy_user_header: string;
  /** Header carrying the user's groups (comma-separated). */
  auth_proxy_groups_header: string;
  /** Groups that make a proxied user an operator; others are viewers. */
  auth_proxy_operator_groups: string[];
  /** Shared secret required in X-Batchiepatchie-Notify-Secret by POST /api/v1/jobs/notify. */
  notify_secret?: string;
  log_level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}
