/**
 * killTimedOutJobs — a job whose PYBATCH_TIMEOUT has passed since it was
 * created, not finished and not already asked to terminate, is terminated
 * with TerminateJob and marked termination_requested.
 *
 * The mirror only proposes: each candidate is described again (DescribeJobs,
 * 100 ids a call, through the shared rate limit) right before acting, and is
 * terminated only when that answer confirms it — not finished, with a
 * PYBATCH_TIMEOUT (from AWS's own description) that has passed since AWS's
 * own createdAt. Queues whose last successful sync is older than three sync
 * periods are left alone (freshness.ts).
 *
 * Schedule: every scale_period seconds. Retry: MAINTENANCE_RETRY (the next
 * period retries anything left anyway).
 */
import type { JobDetail } from '@aws-sdk/client-batch';
import { describeJobs, terminateJobs } from '../../aws/batch';
import { ACTIVE_STATUSES } from '../../domain/jobStatus';
import { findTimedOutJobs, markTerminationRequested } from '../../store/jobs/maintenance';
import type { TaskContext } from '../context';
import { queueFreshness } from '../freshness';
import { mapJobDetail } from '../mapping';
import { metrics } from '../metrics';
import { MAINTENANCE_QUEUE } from '../names';
import { defineTask, MAINTENANCE_RETRY, SCHEDULED_KEEP } from '../task';

export const TIMEOUT_REASON = 'Terminated by batchiepatchie: PYBATCH_TIMEOUT exceeded';

export interface KillTimedOutResult {
  terminated: string[];
  failed: string[];
  /** Candidates of the mirror that AWS's description did not confirm, with why. */
  unconfirmed: { jobId: string; why: string }[];
  /** Queues left alone: not synced successfully for three sync periods. */
  staleQueues: string[];
}

/** Null when AWS's description confirms the job is due; otherwise why not. */
export function whyNotTimedOut(detail: JobDetail | undefined, now: Date, freshQueues: Set<string>): string | null {
  if (!detail) return 'AWS does not know the job';
  let job;
  try {
    job = mapJobDetail(detail);
  } catch (err) {
    return `AWS's description cannot be read: ${(err as Error).message}`;
  }
  if (!(ACTIVE_STATUSES as readonly string[]).includes(job.status)) return `AWS says ${job.status}`;
  if (!(job.timeout > 0)) return 'AWS says it has no PYBATCH_TIMEOUT';
  const due = job.created_at.getTime() + job.timeout * 1000;
  if (due >= now.getTime()) return `AWS says its timeout is not reached (${job.timeout} s since ${job.created_at.toISOString()})`;
  if (!freshQueues.has(job.job_queue)) return `AWS says it is in queue ${job.job_queue}, not freshly synced`;
  return null;
}

export async function killTimedOutJobs(ctx: TaskContext): Promise<KillTimedOutResult> {
  const now = ctx.now();
  const candidates = await findTimedOutJobs(ctx.db, now);
  const result: KillTimedOutResult = { terminated: [], failed: [], unconfirmed: [], staleQueues: [] };
  if (candidates.length === 0) return result;

  const { fresh, stale } = await queueFreshness(ctx, 'killTimedOutJobs', candidates.map((c) => c.job_queue));
  result.staleQueues = stale.map((s) => s.queue);
  const inFresh = candidates.filter((c) => fresh.has(c.job_queue));
  const withheldStale = candidates.length - inFresh.length;
  if (withheldStale > 0) metrics.actionsWithheld.inc({ task: 'killTimedOutJobs', reason: 'stale_queue' }, withheldStale);
  if (inFresh.length === 0) return result;

  // Right before acting: what AWS says now, not what the mirror (or an event) said.
  const described = new Map((await describeJobs(ctx.aws.batch, inFresh.map((c) => c.job_id))).map((d) => [d.jobId, d]));
  const confirmed: string[] = [];
  for (const c of inFresh) {
    const why = whyNotTimedOut(described.get(c.job_id), now, fresh);
    if (why === null) confirmed.push(c.job_id);
    else result.unconfirmed.push({ jobId: c.job_id, why });
  }
  if (result.unconfirmed.length > 0) {
    metrics.actionsWithheld.inc({ task: 'killTimedOutJobs', reason: 'not_confirmed' }, result.unconfirmed.length);
    ctx.logger.info({ unconfirmed: result.unconfirmed }, 'timed-out jobs of the mirror not confirmed by AWS: not terminated (the next sync corrects the mirror)');
  }

  for (const [jobId, outcome] of await terminateJobs(ctx.aws.batch, confirmed, TIMEOUT_REASON)) {
    if (outcome === 'OK') result.terminated.push(jobId);
    else {
      result.failed.push(jobId);
      ctx.logger.warn({ jobId, err: outcome }, 'TerminateJob failed for a timed-out job');
    }
  }
  await markTerminationRequested(ctx.db, result.terminated);
  if (result.failed.length > 0 && result.terminated.length === 0) {
    throw new Error(`TerminateJob failed for ${result.failed.length} timed-out job(s)`);
  }
  return result;
}

export const killTimedOutJobsTask = defineTask({
  name: 'killTimedOutJobs',
  queue: MAINTENANCE_QUEUE,
  schedule: { schedulerId: 'kill-timed-out-jobs', everyMs: (config) => config.scale_period * 1000 },
  retry: MAINTENANCE_RETRY,
  keep: SCHEDULED_KEEP,
  metric: 'task',
  run: (ctx) => killTimedOutJobs(ctx),
});
