/** The job page's dependency lists: the mirror's, completed by AWS's live answer. */
import type { DependencyJson } from './api';

/** The mirror's list, then AWS's entries the mirror has not recorded (a job mirrored before dependencies were). */
export function mergeWaitsOn(mirrored: DependencyJson[], live: DependencyJson[] | undefined): DependencyJson[] {
  const known = new Set(mirrored.map((d) => d.job_id));
  return [...mirrored, ...(live ?? []).filter((d) => !known.has(d.job_id))];
}
