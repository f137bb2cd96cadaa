/**
 * Array job properties in the Go original's shape (jobs.array_properties and
 * the API's `array_properties`): a parent is `{"size": n, "status_summary":
 * {"starting", "failed", "running", "succeeded", "runnable", "submitted",
 * "pending"}}`, every count present. AWS reports the counts as
 * `statusSummary: {RUNNING: n, ...}`; this module turns one into the other.
 */
import type { ArrayProperties, StatusSummary } from '../api/contract';
import { AWS_JOB_STATUSES, type AwsJobStatus } from './jobStatus';

/** The original's keys, in its order. */
export const STATUS_SUMMARY_KEYS = ['starting', 'failed', 'running', 'succeeded', 'runnable', 'submitted', 'pending'] as const;

const keyOf = (status: AwsJobStatus) => status.toLowerCase() as keyof StatusSummary;

function count(n: unknown): number {
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : 0;
}

/** AWS's `statusSummary` (upper-case keys, some missing) as the original's summary (every key, 0 when missing). */
export function statusSummaryFromAws(summary: Record<string, unknown> | undefined | null): StatusSummary {
  const out = Object.fromEntries(STATUS_SUMMARY_KEYS.map((k) => [k, 0])) as unknown as StatusSummary;
  for (const status of AWS_JOB_STATUSES) out[keyOf(status)] = count(summary?.[status]);
  return out;
}

/**
 * A parent's child counts per AWS status, from stored array properties:
 * the original's `status_summary`, or the camel-case `statusSummary` of rows
 * written before this project used the original's shape. Null when none.
 */
export function childCounts(ap: ArrayProperties | Record<string, unknown> | null | undefined): Record<AwsJobStatus, number> | null {
  if (!ap || typeof ap !== 'object') return null;
  const any = ap as Record<string, unknown>;
  const lower = any.status_summary;
  const upper = any.statusSummary;
  if (lower && typeof lower === 'object') {
    const s = lower as Record<string, unknown>;
    return Object.fromEntries(AWS_JOB_STATUSES.map((st) => [st, count(s[keyOf(st)])])) as Record<AwsJobStatus, number>;
  }
  if (upper && typeof upper === 'object') {
    const s = upper as Record<string, unknown>;
    return Object.fromEntries(AWS_JOB_STATUSES.map((st) => [st, count(s[st])])) as Record<AwsJobStatus, number>;
  }
  return null;
}

/**
 * The original's shape for what an AWS job description says: a parent (it
 * has a size) gets `{size, status_summary}` with every count; a child keeps
 * its `{index}`. Null when AWS gave neither.
 */
export function arrayPropertiesFromAws(a: { size?: number; index?: number; statusSummary?: Record<string, number> } | undefined | null): ArrayProperties | null {
  if (!a) return null;
  if (typeof a.size === 'number') return { size: a.size, status_summary: statusSummaryFromAws(a.statusSummary) };
  if (typeof a.index === 'number') return { index: a.index };
  return null;
}
