import type { Knex } from 'knex';

/**
 * `job_dependencies`: a job's AWS Batch `dependsOn`, one row per job it waits
 * on, written by the sync's describes. A job's page reads it both ways: what
 * the job waits on (by job_id, the key's first column) and what waits on it
 * (by depends_on_job_id, its own index; with job_id in it, the first hundred
 * of a job's dependents and their count are read from the index alone).
 *
 * No foreign key to `jobs`: the job waited on may not be mirrored at all (a
 * queue not activated), and one on job_id would make `TRUNCATE jobs` fail; the
 * cleaner deletes a job's rows with the job.
 *
 * On an adopted Go database (or a mirror older than this table) no job has
 * rows yet, and a job is described again only when it changes: jobs waiting
 * in SUBMITTED or PENDING, those whose dependencies matter while a chain is
 * stuck, are marked `needs_describe`, so the next sync round describes them
 * once and fills their rows in (their last_updated moves to that round).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`CREATE TABLE IF NOT EXISTS job_dependencies (
    job_id varchar(64) NOT NULL,
    depends_on_job_id varchar(64) NOT NULL,
    type text,
    PRIMARY KEY (job_id, depends_on_job_id)
  )`);
  await knex.raw('CREATE INDEX IF NOT EXISTS job_dependencies_depends_on_job_id ON job_dependencies (depends_on_job_id, job_id)');
  await knex.raw(
    "UPDATE jobs SET needs_describe = true WHERE status IN ('SUBMITTED', 'PENDING') AND NOT needs_describe",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS job_dependencies');
}
