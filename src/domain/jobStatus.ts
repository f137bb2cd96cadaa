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

/**
 * What a user reads a finished job as. The Go original's UI showed a FAILED
 * job that exited with 130, 137 or 143 (SIGINT, SIGKILL, SIGTERM) as
 * TERMINATED; ours also counts a job we were asked to terminate and one whose
 * reason says it was terminated, and tells an out-of-memory kill (137 with an
 * OutOfMemory reason) apart: that one stays FAILED and says so.
 */
export const DISPLAY_STATUSES = [...JOB_STATUSES, 'TERMINATED'] as const;
export type DisplayStatus = (typeof DISPLAY_STATUSES)[number];

/** Exit codes of a job killed by a signal: 128 + SIGINT (2), SIGKILL (9), SIGTERM (15). */
export const SIGNAL_EXIT_CODES: readonly number[] = [130, 137, 143];
export const SIGKILL_EXIT_CODE = 137;
/** "OutOfMemoryError: Container killed due to memory usage" and its spellings. */
export const OUT_OF_MEMORY_REASON = /out\s*of\s*memory/i;
/** "Terminated by ...", "terminated from UI", "Job terminated ...". */
export const TERMINATED_REASON = /terminat/i;

export interface DisplayStatusInput {
  status: string;
  exitcode: number | null;
  status_reason?: string | null;
  termination_requested?: boolean;
}

export function isOutOfMemoryKill(job: DisplayStatusInput): boolean {
  return job.status === 'FAILED' && job.exitcode === SIGKILL_EXIT_CODE && OUT_OF_MEMORY_REASON.test(job.status_reason ?? '');
}

export function isTerminated(job: DisplayStatusInput): boolean {
  if (job.status !== 'FAILED' || isOutOfMemoryKill(job)) return false;
  return (
    job.termination_requested === true ||
    TERMINATED_REASON.test(job.status_reason ?? '') ||
    (job.exitcode !== null && SIGNAL_EXIT_CODES.includes(job.exitcode))
  );
}

/** The status to show: TERMINATED per the rule above, else the stored status. */
export function displayStatusOf(job: DisplayStatusInput): DisplayStatus {
  return isTerminated(job) ? 'TERMINATED' : (job.status as JobStatus);
}

/** A word beside the status: why it is what it is, when that is not obvious. */
export function statusNoteOf(job: DisplayStatusInput): string | null {
  return isOutOfMemoryKill(job) ? 'out of memory' : null;
}
