/**
 * The listing reconciliation a queue's sync and an array parent's children
 * sync share: merge what ListJobs returned, diff it against our rows,
 * describe what changed plus what we believe active that AWS no longer
 * lists, write, and mark seen. An array parent about to be stored as
 * finished has its children reconciled first (syncArrayChildren), hence both
 * live here.
 */
import type { JobSummary, JobDetail } from '@aws-sdk/client-batch';
import { getJobStates, touchLastSeen } from '../store/jobs/sync';
import { getArrayChildren } from '../store/jobs/lookups';
import { upsertJobs, type DependencySets } from '../store/jobs/upsert';
import { clearNeedsDescribe } from '../store/jobEvents';
import { AWS_JOB_STATUSES, isTerminal, statusRank, type AwsJobStatus } from '../domain/jobStatus';
import type { JobDependencyLink, MirroredJob } from '../types';
import { childCounts } from '../domain/arrayProperties';
import { describeJobs, listAllJobs, type ListJobsQuery } from '../aws/batch';
import type { TaskContext } from './context';
import { arrayPropertiesOf, dependenciesOf, JobMappingError, mapJobDetail } from './mapping';
import { summaryChanged } from './summaryDiff';

/** An array parent's child counts per AWS status. */
type ChildCounts = Partial<Record<AwsJobStatus, number>>;

export interface ReconcileStats {
  listed: number;
  described: number;
  changed: number;
  missingDescribed: number;
  changedIds: string[];
  /** Array parents this reconcile saw reach a terminal status (their children were synced first). */
  finishedParents: string[];
}

/** Keeps the most advanced summary of a job listed twice (it moved between two list calls). */
export function mergeSummaries(lists: JobSummary[][]): Map<string, JobSummary> {
  const byId = new Map<string, JobSummary>();
  for (const list of lists) {
    for (const s of list) {
      if (!s.jobId) continue;
      const prev = byId.get(s.jobId);
      if (!prev || rankOf(s) >= rankOf(prev)) byId.set(s.jobId, s);
    }
  }
  return byId;
}

function rankOf(s: JobSummary): number {
  return statusRank(s.status ?? '');
}

export async function listQueries(ctx: TaskContext, queries: ListJobsQuery[]): Promise<Map<string, JobSummary>> {
  const lists = await Promise.all(queries.map((q) => listAllJobs(ctx.aws.batch, q)));
  return mergeSummaries(lists);
}

/** Jobs described and written per step: a retried task resumes after the last written step (those rows now match). */
export const DESCRIBE_STEP = 5000;

/** Every described job's dependsOn: a describe is the one source of it (events do not carry it). */
function dependencySets(details: JobDetail[]): DependencySets {
  const sets = new Map<string, JobDependencyLink[]>();
  for (const d of details) if (typeof d.jobId === 'string') sets.set(d.jobId, dependenciesOf(d));
  return sets;
}

function mapDetails(ctx: TaskContext, label: Record<string, string>, details: JobDetail[]): MirroredJob[] {
  const mapped: MirroredJob[] = [];
  for (const d of details) {
    try {
      mapped.push(mapJobDetail(d));
    } catch (err) {
      if (!(err instanceof JobMappingError)) throw err;
      ctx.logger.warn({ ...label, jobId: err.jobId, err: err.message }, 'skipping a job description that cannot be mirrored');
    }
  }
  return mapped;
}

/**
 * The common half of queue and array-children sync: diff listed summaries
 * against our rows, describe what changed plus what we believe active but
 * AWS did not list plus what events wrote since the last describe
 * (`unconfirmed`), write, and mark seen.
 */
export async function reconcileListing(
  ctx: TaskContext,
  label: Record<string, string>,
  summaries: Map<string, JobSummary>,
  believedActive: string[],
  unconfirmed: string[] = [],
): Promise<ReconcileStats> {
  const ids = [...summaries.keys()];
  const states = await getJobStates(ctx.db, ids);
  const toDescribe = ids.filter((id) => summaryChanged(summaries.get(id)!, states.get(id)));
  const missing = believedActive.filter((id) => !summaries.has(id));
  const pending = [...new Set([...toDescribe, ...missing, ...unconfirmed])];

  // Everything AWS reports active right now counts as seen (written rows get last_seen_at anyway).
  const activeNow = new Set<string>();
  for (const [id, s] of summaries) if (s.status && !isTerminal(s.status)) activeNow.add(id);
  const changedIds: string[] = [];
  const finishedParents: string[] = [];
  let described = 0;
  for (let i = 0; i < pending.length; i += DESCRIBE_STEP) {
    const step = pending.slice(i, i + DESCRIBE_STEP);
    const details = await describeJobs(ctx.aws.batch, step);
    described += details.length;
    // An event-written row AWS does not know has no truth to wait for (a forged or forgotten job): stop describing it.
    const known = new Set(details.map((d) => d.jobId));
    await clearNeedsDescribe(ctx.db, step.filter((id) => !known.has(id)));
    const mapped = mapDetails(ctx, label, details);
    // An array parent about to be stored as finished will not be "open" next round: mirror its
    // children first, so a failure here leaves the parent open and the next round tries again.
    const finishing = mapped.filter(
      (j) =>
        j.array_properties?.size !== undefined &&
        !j.array_parent_id &&
        isTerminal(j.status) &&
        !isTerminal(states.get(j.job_id)?.status ?? 'SUBMITTED'),
    );
    for (const parent of finishing) await syncArrayChildren(ctx, parent.job_id, childCounts(parent.array_properties) ?? undefined);
    changedIds.push(...(await upsertJobs(ctx.db, mapped, { batchSize: 500, dependencies: dependencySets(details) })).changedIds);
    finishedParents.push(...finishing.map((j) => j.job_id));
    for (const job of mapped) {
      if (isTerminal(job.status)) activeNow.delete(job.job_id);
      else activeNow.add(job.job_id);
    }
  }
  await touchLastSeen(ctx.db, [...activeNow], new Date());
  return {
    listed: summaries.size,
    described,
    changed: changedIds.length,
    missingDescribed: missing.length,
    changedIds,
    finishedParents,
  };
}

export interface SyncArrayChildrenResult extends Omit<ReconcileStats, 'changedIds' | 'finishedParents'> {
  parentId: string;
}

async function populatedStatuses(
  ctx: TaskContext,
  parentId: string,
  known?: ChildCounts,
): Promise<readonly AwsJobStatus[]> {
  // Our stored counts may be a round old (the parent's own task runs beside this one): ask AWS.
  const counts = known ?? childCounts(arrayPropertiesOf((await describeJobs(ctx.aws.batch, [parentId]))[0]?.arrayProperties));
  if (!counts) return AWS_JOB_STATUSES;
  const populated = AWS_JOB_STATUSES.filter((s) => (counts[s] ?? 0) > 0);
  return populated.length > 0 ? populated : AWS_JOB_STATUSES;
}

/** `statusSummary`: the parent's fresh child counts when the caller has them (else our stored ones). */
export async function syncArrayChildren(
  ctx: TaskContext,
  parentId: string,
  statusSummary?: ChildCounts,
): Promise<SyncArrayChildrenResult> {
  const statuses = await populatedStatuses(ctx, parentId, statusSummary);
  const queries: ListJobsQuery[] = statuses.map((jobStatus) => ({ arrayJobId: parentId, jobStatus }));
  const summaries = await listQueries(ctx, queries);
  const believed = (await getArrayChildren(ctx.db, parentId)).filter((c) => !isTerminal(c.status)).map((c) => c.job_id);
  const stats = await reconcileListing(ctx, { parentId }, summaries, believed);
  return {
    parentId,
    listed: stats.listed,
    described: stats.described,
    changed: stats.changed,
    missingDescribed: stats.missingDescribed,
  };
}
