/**
 * An array parent's progress from its array_properties: the size and the
 * children per status. Reads the Go original's shape ({size, status_summary:
 * {succeeded: n, ...}}) and this project's earlier one ({size, statusSummary:
 * {SUCCEEDED: n}}), so rows written by either show the same.
 */
import type { JobJson } from './api';

export interface ArraySummary {
  size: number;
  /** Children per status, upper-case keys (SUCCEEDED, FAILED, ...). */
  counts: Record<string, number>;
  done: number;
}

interface AnyArrayProperties {
  size?: number | null;
  status_summary?: Record<string, unknown> | null;
  statusSummary?: Record<string, unknown> | null;
}

export function arraySummary(job: Pick<JobJson, 'array_properties' | 'array_parent_id'>): ArraySummary | null {
  const ap = job.array_properties as AnyArrayProperties | null | undefined;
  if (!ap || typeof ap.size !== 'number' || job.array_parent_id) return null;
  const counts: Record<string, number> = {};
  for (const [status, n] of Object.entries(ap.status_summary ?? ap.statusSummary ?? {})) {
    const count = Number(n);
    if (Number.isFinite(count) && count > 0) counts[status.toUpperCase()] = count;
  }
  return { size: ap.size, counts, done: (counts.SUCCEEDED ?? 0) + (counts.FAILED ?? 0) };
}

export function isArrayParent(job: Pick<JobJson, 'array_properties' | 'array_parent_id'>): boolean {
  return arraySummary(job) !== null;
}
