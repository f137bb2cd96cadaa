/** `activated_job_queues`: which AWS Batch queues are mirrored, and their forced-scaling flag. */
import type { Knex } from 'knex';
import type { ActivatedQueue } from '../types';

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
