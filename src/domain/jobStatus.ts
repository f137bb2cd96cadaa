/**
 * The rules of a job's life that every layer shares: which statuses exist,
 * which are final, which count as active, and how far along a status is.
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

export function isAwsJobStatus(value: unknown): value is AwsJobStatus {
  return typeof value === 'string' && (AWS_JOB_STATUSES as readonly string[]).includes(value);
}

/**
 * How far along a status is. GONE (or anything unknown) ranks lowest: an
 * event proves AWS still knows the job.
 */
export const STATUS_RANK: Readonly<Record<AwsJobStatus, number>> = {
  SUBMITTED: 1,
  PENDING: 2,
  RUNNABLE: 3,
  STARTING: 4,
  RUNNING: 5,
  SUCCEEDED: 6,
  FAILED: 6,
};

export function statusRank(status: string): number {
  return isAwsJobStatus(status) ? STATUS_RANK[status] : 0;
}

/**
 * How far a job has progressed: attempts first (a retry moves a job from
 * RUNNING back to RUNNABLE but adds an attempt), then its status.
 */
export function progressOf(job: { attempts: number; status: string }): [number, number] {
  return [job.attempts, statusRank(job.status)];
}
