/**
 * Reads of `job_dependencies` (AWS Batch `dependsOn`, written by the sync's
 * upsert): what a job waits on, what waits on it, each with the other job's
 * name and status as the mirror has them.
 */
import type { Knex } from 'knex';
import type { JobStatus } from '../domain/jobStatus';

/** The job at the other end of a dependency; its own fields are null when the mirror does not hold it. */
export interface DependencyRow {
  job_id: string;
  type: string | null;
  job_name: string | null;
  status: JobStatus | null;
  exitcode: number | null;
  status_reason: string | null;
  termination_requested: boolean | null;
}

const OTHER_JOB = 'j.job_name, j.status, j.exitcode, j.status_reason, j.termination_requested';

/** The jobs `jobId` waits on, in id order. */
export async function waitsOn(db: Knex, jobId: string): Promise<DependencyRow[]> {
  const result = await db.raw<{ rows: DependencyRow[] }>(
    `SELECT jd.depends_on_job_id AS job_id, jd.type, ${OTHER_JOB}
     FROM job_dependencies jd LEFT JOIN jobs j ON j.job_id = jd.depends_on_job_id
     WHERE jd.job_id = ?
     ORDER BY jd.depends_on_job_id`,
    [jobId],
  );
  return result.rows;
}

/**
 * The jobs that wait on `jobId`: the first `limit` in id order (read along
 * the (depends_on_job_id, job_id) index, so a job with a hundred thousand
 * dependents costs no more), and how many there are in all.
 */
export async function waitedOnBy(db: Knex, jobId: string, limit: number): Promise<{ rows: DependencyRow[]; total: number }> {
  const [rows, count] = await Promise.all([
    db.raw<{ rows: DependencyRow[] }>(
      `SELECT jd.job_id, jd.type, ${OTHER_JOB}
       FROM (
         SELECT job_id, type FROM job_dependencies WHERE depends_on_job_id = ? ORDER BY job_id LIMIT ?
       ) jd LEFT JOIN jobs j ON j.job_id = jd.job_id
       ORDER BY jd.job_id`,
      [jobId, limit],
    ),
    db('job_dependencies').where({ depends_on_job_id: jobId }).count<{ n: number | string }[]>({ n: '*' }),
  ]);
  return { rows: rows.rows, total: Number(count[0]?.n ?? 0) };
}

/** Links known from elsewhere (AWS's live `dependsOn`), with the mirror's name and status of each job, in the given order. */
export async function withMirroredJobs(db: Knex, links: readonly { job_id: string; type: string | null }[]): Promise<DependencyRow[]> {
  if (links.length === 0) return [];
  const rows: (Omit<DependencyRow, 'type'> & { job_id: string })[] = await db('jobs as j')
    .select('j.job_id', db.raw(OTHER_JOB))
    .whereRaw('j.job_id = ANY(?::varchar[])', [links.map((l) => l.job_id)]);
  const byId = new Map(rows.map((r) => [r.job_id, r]));
  return links.map((l) => {
    const job = byId.get(l.job_id);
    return {
      job_id: l.job_id,
      type: l.type,
      job_name: job?.job_name ?? null,
      status: job?.status ?? null,
      exitcode: job?.exitcode ?? null,
      status_reason: job?.status_reason ?? null,
      termination_requested: job?.termination_requested ?? null,
    };
  });
}
