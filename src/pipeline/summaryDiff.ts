/**
 * Does a ListJobs summary say the job changed since we stored it? Summaries
 * carry status, reason, times, exit code and an array parent's child counts;
 * only jobs for which this says yes are described.
 */
import type { JobSummary } from '@aws-sdk/client-batch';
import type { JobState } from '../store/jobs/sync';
import { AWS_JOB_STATUSES, isTerminal } from '../domain/jobStatus';
import { childCounts } from '../domain/arrayProperties';

function ms(d: Date | string | null | undefined): number | null {
  if (d === null || d === undefined) return null;
  return new Date(d).getTime();
}

function sameCounts(a: Record<string, number> | undefined, b: Record<string, number> | undefined): boolean {
  for (const s of AWS_JOB_STATUSES) {
    if ((a?.[s] ?? 0) !== (b?.[s] ?? 0)) return false;
  }
  return true;
}

export function summaryChanged(summary: JobSummary, state: JobState | undefined): boolean {
  if (!state) return true;
  if (summary.status !== state.status) return true;
  if (summary.startedAt !== undefined && summary.startedAt !== ms(state.run_started_at)) return true;
  if (summary.stoppedAt !== undefined && summary.stoppedAt !== ms(state.stopped_at)) return true;
  const exitCode = summary.container?.exitCode;
  if (exitCode !== undefined && exitCode !== state.exitcode) return true;
  // Our reason is the last attempt's container reason when present, else the job's: either may match.
  const reasons = [summary.container?.reason, summary.statusReason].filter((r): r is string => Boolean(r));
  if (reasons.length > 0 && !reasons.includes(state.status_reason ?? '')) return true;
  const array = summary.arrayProperties;
  if (array?.size !== undefined) {
    // An array parent: its child counts move while its own status stays RUNNING.
    if (!array.statusSummary) return !isTerminal(summary.status ?? '');
    if (!sameCounts(array.statusSummary, childCounts(state.array_properties) ?? undefined)) return true;
  }
  return false;
}
