/** `activated_job_queues`: which AWS Batch queues are mirrored, and their forced-scaling flag. */
import type { Knex } from 'knex';
import { ACTIVE_STATUSES, type AwsJobStatus } from '../domain/jobStatus';
import type { ActivatedQueue } from '../api/contract';

export async function listActivatedQueues(db: Knex): Promise<ActivatedQueue[]> {
  return db('activated_job_queues').select('job_queue', 'forced_scaling').orderBy('job_queue');
}

/** Idempotent: activating an active queue keeps its forced_scaling flag. */
export async function activateQueue(db: Knex, name: string): Promise<void> {
  await db('activated_job_queues').insert({ job_queue: name }).onConflict('job_queue').ignore();
}

export async function deactivateQueue(db: Knex, name: string): Promise<void> {
  await db('activated_job_queues').where({ job_queue: name }).del();
}

/**
 * Sets a queue's forced scaling flag. Only an activated queue has the flag:
 * for any other name nothing changes and the answer is false.
 */
export async function setForcedScaling(db: Knex, name: string, on: boolean): Promise<boolean> {
  const updated = await db('activated_job_queues').where({ job_queue: name }).update({ forced_scaling: on });
  return updated > 0;
}

/** Per queue: jobs per active status now, and jobs that failed in the last day. */
export interface QueueJobCounts {
  active: Partial<Record<AwsJobStatus, number>>;
  failed_last_day: number;
}

/**
 * Job counts for the Job queues page. Array parents are left out (their
 * children are the jobs that run), so a 10-child array running counts 10.
 * Both parts read only the active rows (status index) and the last day's
 * stopped ones (stopped_at index), however many finished jobs are kept.
 */
export async function queueJobCounts(db: Knex, now = new Date()): Promise<Map<string, QueueJobCounts>> {
  const notArrayParent = "(array_parent_id IS NOT NULL OR array_properties->>'size' IS NULL)";
  const [active, failed] = await Promise.all([
    db('jobs')
      .select('job_queue', 'status')
      .count<{ job_queue: string; status: string; n: string }[]>({ n: '*' })
      .whereIn('status', ACTIVE_STATUSES)
      .whereRaw(notArrayParent)
      .groupBy('job_queue', 'status'),
    db('jobs')
      .select('job_queue')
      .count<{ job_queue: string; n: string }[]>({ n: '*' })
      .where('status', 'FAILED')
      .where('stopped_at', '>=', new Date(now.getTime() - 86_400_000))
      .whereRaw(notArrayParent)
      .groupBy('job_queue'),
  ]);
  const out = new Map<string, QueueJobCounts>();
  const entry = (queue: string) => {
    let e = out.get(queue);
    if (!e) out.set(queue, (e = { active: {}, failed_last_day: 0 }));
    return e;
  };
  for (const r of active) entry(r.job_queue).active[r.status as AwsJobStatus] = Number(r.n);
  for (const r of failed) entry(r.job_queue).failed_last_day = Number(r.n);
  return out;
}
