/**
 * Single-job reads of `jobs` for the API and the pipeline: one job with the
 * instance it ran on, its status, an array parent's children.
 */
import type { Knex } from 'knex';
import type { JobStatus } from '../../domain/jobStatus';
import type { JobRow, JobWithInstance } from '../../types';

/** The instance a job's task ran on (first by id when several are recorded). */
export const INSTANCE_JOIN = `
  LEFT JOIN LATERAL (
    SELECT t.instance_id, t.public_ip, t.private_ip
    FROM task_arns_to_instance_info t
    WHERE t.task_arn = jobs.task_arn
    ORDER BY t.instance_id
    LIMIT 1
  ) inst ON TRUE`;

const SELECT_WITH_INSTANCE = `SELECT jobs.*, inst.instance_id, inst.public_ip, inst.private_ip FROM jobs ${INSTANCE_JOIN}`;

export async function getJob(db: Knex, id: string): Promise<JobWithInstance | null> {
  const result = await db.raw<{ rows: JobWithInstance[] }>(`${SELECT_WITH_INSTANCE} WHERE jobs.job_id = ?`, [id]);
  return result.rows[0] ?? null;
}

export async function getJobStatus(db: Knex, id: string): Promise<{ id: string; status: JobStatus } | null> {
  const row: { id: string; status: JobStatus } | undefined = await db('jobs')
    .select('job_id as id', 'status')
    .where({ job_id: id })
    .first();
  return row ?? null;
}

export async function getArrayChildren(db: Knex, parentId: string): Promise<JobRow[]> {
  return db('jobs').where({ array_parent_id: parentId }).orderBy([{ column: 'array_index' }, { column: 'job_id' }]);
}

/** Array parents are rows with an array size and no parent of their own. */
export function whereArrayParent(q: Knex.QueryBuilder): Knex.QueryBuilder {
  return q.whereRaw("(jobs.array_properties ->> 'size') IS NOT NULL").whereNull('jobs.array_parent_id');
}
